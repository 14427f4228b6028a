import { describe, expect, it } from 'vitest';
import { createImageCommand, normaliseTags, updateTagsCommand } from '../../../src/service/images/index.js';

describe('createImageCommand', () => {
  it('trims the prompt and trims, lower-cases, de-duplicates and sorts the tags', () => {
    expect(createImageCommand({ prompt: '  a red fox  ', tags: [' Forest', 'fox', 'FOX ', 'forest', 'Autumn'] })).toEqual({
      prompt: 'a red fox',
      tags: ['autumn', 'forest', 'fox'],
    });
  });

  it('turns a create without tags into an empty tag set', () => {
    expect(createImageCommand({ prompt: 'no tags' })).toEqual({ prompt: 'no tags', tags: [] });
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
