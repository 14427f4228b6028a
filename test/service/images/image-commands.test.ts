import { describe, expect, it } from 'vitest';
import { createImageCommand, normaliseTags, updateTagsCommand } from '../../../src/service/images/index.js';

describe('createImageCommand', () => {
  it('trims the prompt and trims, lower-cases, de-duplicates and sorts the tags', () => {
    expect(createImageCommand({ prompt: '  a red fox  ', tags: [' Forest', 'fox', 'FOX ', 'forest', 'Autumn'] })).toEqual({
      prompt: 'a red fox',
      tags: ['autumn', 'forest', 'fox'],
      options: {},
    });
  });

  it('passes the generation options on as sent, for the service to check per model', () => {
    expect(createImageCommand({ prompt: 'p', model: 'dall-e-3', size: '1792x1024', quality: 'hd', style: 'natural' })).toEqual({
      prompt: 'p',
      tags: [],
      options: { model: 'dall-e-3', size: '1792x1024', quality: 'hd', style: 'natural' },
    });
  });

  it('turns a create without tags into an empty tag set', () => {
    expect(createImageCommand({ prompt: 'no tags' })).toEqual({ prompt: 'no tags', tags: [], options: {} });
  });
});

describe('updateTagsCommand', () => {
  it('normalises the new tag set like a create does', () => {
    expect(updateTagsCommand({ tags: ['B', ' a', 'b '] })).toEqual({ tags: ['a', 'b'] });
  });
});

describe('normaliseTags', () => {
  it('keeps an empty set empty', () => {
    expect(normaliseTags([])).toEqual([]);
  });
});
