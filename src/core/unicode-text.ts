import type { FieldError } from './errors.js';

// With the `u` flag a well-formed surrogate pair is one astral code point, so only a lone surrogate
// (U+D800 to U+DFFF on its own) is in the Surrogate category.
const LONE_SURROGATE = /\p{Surrogate}/u;

export const ILL_FORMED_TEXT_MESSAGE = 'must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which cannot be stored';

/**
 * Whether a string is a sequence of Unicode scalar values, i.e. has no lone surrogate. JSON's
 * `\ud800` escapes can produce such strings; UTF-8 cannot represent them, so each database would
 * store something else (SQLite three U+FFFD, MariaDB one) and the stored text would no longer be
 * what was accepted.
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const LONE_SURROGATES = /\p{Surrogate}/gu;

/**
 * The text with each lone surrogate replaced by one U+FFFD. For text we did not accept from a client
 * but must keep (a provider's revised prompt): replacing it ourselves makes what is stored the same on
 * every engine, where the drivers would otherwise write one (MariaDB) or three (SQLite) U+FFFD.
 */
export function wellFormedText(text: string): string {
  return isWellFormedText(text) ? text : text.replace(LONE_SURROGATES, '\ufffd');
}

/** JSON pointer escaping of one reference token (RFC 6901 section 3). */
function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * One field error per string inside `value` (objects and arrays walked) that is not well-formed
 * Unicode, with a JSON pointer from `path`, e.g. `/body/tags/1`. Empty when all text is storable.
 */
export function illFormedTextErrors(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string') return isWellFormedText(value) ? [] : [{ path, message: ILL_FORMED_TEXT_MESSAGE }];
  if (Array.isArray(value)) return value.flatMap((item, index) => illFormedTextErrors(item, `${path}/${index}`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([name, item]) =>
      isWellFormedText(name)
        ? illFormedTextErrors(item, `${path}/${pointerToken(name)}`)
        : // A name that cannot be written as text cannot be pointed at either: the object is named.
          [{ path, message: `has a property name that ${ILL_FORMED_TEXT_MESSAGE}` }],
    );
  }
  return [];
}
