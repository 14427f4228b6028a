import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { BadRequestError, DataValidationError, type FieldError } from '../core/errors.js';
import { illFormedTextErrors } from '../core/unicode-text.js';
import { summarise } from './field-errors.js';

/**
 * Query parameters whose percent-encoding is broken (`%zz`, a lone `%`) or does not decode to UTF-8
 * (`%FF`, an encoded surrogate). Fastify's query parser keeps such a value as the literal text, so
 * `?tag=%FF` would silently search for the three characters `%FF`.
 */
export function badlyEncodedQueryParameters(url: string): FieldError[] {
  const start = url.indexOf('?');
  if (start < 0) return [];
  const errors: FieldError[] = [];
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
      decodeURIComponent(pair.replaceAll('+', ' '));
    } catch {
      name = /^[A-Za-z0-9_.-]*$/.test(rawName) ? rawName : '';
      errors.push({ path: `/querystring${name ? `/${name}` : ''}`, message: 'is not validly percent-encoded UTF-8' });
    }
  }
  return errors;
}

/**
 * What the API stores is exactly what it accepted: a request whose text cannot be read or stored
 * faithfully is refused before validation, on every route. Broken percent-encoding in the query
 * string is 400 `BadRequestError`; a lone surrogate anywhere in the body, query or path parameters
 * (JSON's `"\ud800"`) is 400 `DataValidationError` pointing at the field. docs/API.md, Errors.
 */
export const requestText = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', (request, _reply, done) => {
      const badlyEncoded = badlyEncodedQueryParameters(request.url);
      if (badlyEncoded.length > 0) {
        done(new BadRequestError(`The query string is not validly percent-encoded UTF-8: ${summarise(badlyEncoded)}`, { errors: badlyEncoded }));
        return;
      }
      const illFormed = [
        ...illFormedTextErrors(request.params, '/params'),
        ...illFormedTextErrors(request.query, '/querystring'),
        ...illFormedTextErrors(request.body, '/body'),
      ];
      done(illFormed.length > 0 ? new DataValidationError(summarise(illFormed), { errors: illFormed }) : undefined);
    });
  },
  { name: 'request-text' },
);
