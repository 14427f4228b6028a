import { Type } from 'typebox';
import { GuidSchema } from '../../core/models/image.js';

/** Error responses reference the shared Problem schema registered in buildApp. */
export const problem = (description: string) => Type.Ref('Problem', { description });

export const GuidParams = Type.Object({ guid: GuidSchema }, { additionalProperties: false });

export const problemResponses = {
  400: problem('The request is malformed or fails validation'),
  500: problem('Unexpected server fault'),
  503: problem('The database is unavailable; retry after `Retry-After` seconds'),
};

/** The 401 of every route behind the authentication hook (HTTP Basic or an API key as a Bearer token). */
export const authResponses = {
  401: problem('Missing or wrong HTTP Basic credentials, or an unknown, expired or revoked API key (with `WWW-Authenticate`)'),
};
