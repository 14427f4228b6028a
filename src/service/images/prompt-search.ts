import { DataValidationError } from '../../core/errors.js';
import type { PromptSearch } from '../../data/image-repository.js';

/** Most words (and phrase words) one search may hold; beyond it the query is refused. */
export const SEARCH_MAX_TERMS = 16;

// A word is a run of letters, combining marks and digits; everything else separates words, so
// punctuation never reaches the full-text engines' query syntax.
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

function wordsOf(text: string): string[] {
  return (text.normalize('NFC').match(WORD) ?? []).map((word) => word.toLowerCase());
}

function refuse(message: string): DataValidationError {
  return new DataValidationError(`q ${message}`, { errors: [{ path: '/querystring/q', message }] });
}

/**
 * Reads `GET /image?q=` (docs/API.md): words are ANDed; a double-quoted part is a phrase whose
 * words must appear together and in order. Case is ignored (and accents, where the engine can).
 * @throws DataValidationError (400) when `q` holds no word at all (empty or only punctuation) or
 *   more than SEARCH_MAX_TERMS words.
 */
export function parsePromptSearch(q: string): PromptSearch {
  const words: string[] = [];
  const phrases: string[][] = [];
  // Odd-numbered parts lie between double quotes; an unclosed quote runs to the end.
  q.split('"').forEach((part, index) => {
    const partWords = wordsOf(part);
    if (index % 2 === 1 && partWords.length > 1) phrases.push(partWords);
    else words.push(...partWords);
  });
  const count = words.length + phrases.reduce((sum, phrase) => sum + phrase.length, 0);
  if (count === 0) throw refuse('must contain at least one letter or digit');
  if (count > SEARCH_MAX_TERMS) throw refuse(`must contain at most ${SEARCH_MAX_TERMS} words`);
  return { words: [...new Set(words)], phrases };
}
