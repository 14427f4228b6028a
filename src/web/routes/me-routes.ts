import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AccessService } from '../../service/access/index.js';
import { basicAuth } from '../basic-auth.js';
import { problem, problemResponses } from './route-schemas.js';

/** Body of `GET /me`: who the credentials belong to (docs/API.md, "GET /me"). */
export const MeSchema = Type.Object(
  {
    username: Type.String({ description: 'The authenticated username' }),
    admin: Type.Boolean({ description: 'Whether the user may change or delete any image' }),
  },
  { $id: 'Me', additionalProperties: false },
);
export type Me = Static<typeof MeSchema>;

export interface MeRoutesOptions {
  /** The same login call as the private image routes, so guessing here counts against the same limits. */
  access: AccessService;
}

/**
 * `GET /me` behind HTTP Basic: lets a client (the gallery page's sign-in form) check credentials
 * before using them. Wrong credentials answer 401 problem+json, too many failures 429.
 */
export async function meRoutes(instance: FastifyInstance, opts: MeRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', basicAuth(opts.access));
  app.get(
    '/me',
    {
      schema: {
        operationId: 'getMe',
        tags: ['users'],
        summary: 'The user the credentials belong to',
        security: [{ basicAuth: [] }],
        response: {
          200: MeSchema,
          401: problem('Missing or wrong HTTP Basic credentials (with `WWW-Authenticate`)'),
          429: problem('Too many failed logins from this client or against this username (`Retry-After`)'),
          ...problemResponses,
        },
      },
    },
    async (request): Promise<Me> => ({ username: request.user!.username, admin: request.user!.is_admin }),
  );
}
