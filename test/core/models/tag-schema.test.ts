import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { TagSchema } from '../../../src/core/models/image.js';

const tag = Compile(TagSchema);

describe('TagSchema', () => {
  it.each(['sea', 'Sea Shore', ' padded ', 'café', '東京', 'a-b_c.d'])('accepts %j', (value) => {
    expect(tag.Check(value)).toBe(true);
  });

  it.each(['', '   ', '\t', 'a\u0007b', 'bell\u0007', '\u0000', 'line\nbreak', 'del\u007f'])(
    'refuses %j: blank or with a control character',
    (value) => {
      expect(tag.Check(value)).toBe(false);
    },
  );

  it('refuses more than 64 characters', () => {
    expect(tag.Check('a'.repeat(64))).toBe(true);
    expect(tag.Check('a'.repeat(65))).toBe(false);
  });
});
