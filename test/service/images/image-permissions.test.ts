import { describe, expect, it } from 'vitest';
import { OperationNotAllowedError } from '../../../src/core/errors.js';
import type { User } from '../../../src/core/models/user.js';
import { assertMayModifyImage, mayModifyImage } from '../../../src/service/images/index.js';

const user = (username: string, is_admin = false): User => ({ username, is_admin, created_at: '2026-01-01T00:00:00.000Z' });
const image = { guid: '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41', author: 'alice' };

describe('the image ownership rule', () => {
  it('lets the author modify their image', () => {
    expect(mayModifyImage(user('alice'), image)).toBe(true);
  });

  it('lets an admin modify anyone\'s image', () => {
    expect(mayModifyImage(user('root', true), image)).toBe(true);
  });

  it('refuses anyone else', () => {
    expect(mayModifyImage(user('bob'), image)).toBe(false);
  });

  it('compares usernames exactly, so a differently-cased name is someone else', () => {
    expect(mayModifyImage(user('Alice'), image)).toBe(false);
  });

  it('throws OperationNotAllowedError naming the image when refused', () => {
    expect(() => assertMayModifyImage(user('bob'), image)).toThrow(OperationNotAllowedError);
    expect(() => assertMayModifyImage(user('bob'), image)).toThrow(image.guid);
    expect(() => assertMayModifyImage(user('alice'), image)).not.toThrow();
  });
});
