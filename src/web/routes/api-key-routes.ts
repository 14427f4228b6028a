import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { OperationNotAllowedError } from '../../core/errors.js';
import { API_KEY_ID_PATTERN, ApiKeyCreateSchema } from '../../core/models/api-key.js';
import type { AccessService, ApiKeyService } from '../../service/access/index.js';
import { authenticateRequest } from '../authentication.js';
import { problem, problemResponses } from './route-schemas.js';

export interface ApiKeyRoutesOptions {
  access: AccessService;
  apiKeys: ApiKeyService;
}

const KeyIdParams = Type.Object({ id: Type.String({ pattern: API_KEY_ID_PATTERN, description: 'Key id' }) }, { additionalProperties: false });

const authResponses = {
  401: problem('Missing or wrong credentials, or an unknown, expired or revoked API key (with `WWW-Authenticate`)'),
  429: problem('Too many failed logins from this client or against this username (`Retry-After`)'),
};

/** The caller's own API keys (prefix /me/keys). Creating one needs the password: HTTP Basic, not another key. */
export async function apiKeyRoutes(instance: FastifyInstance, opts: ApiKeyRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', authenticateRequest(opts.access));
  // Tokens and key lists are the caller's secrets and inventory: never stored by a cache on the way.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.post(
    '/',
    {
      schema: {
        operationId: 'createApiKey',
        tags: ['api keys'],
        summary: 'Create an API key for yourself',
        description:
          'Answers the key with its `token`, this once: only a hash of it is stored. Needs HTTP Basic (the password); a request made with an API key is refused with 403, so a leaked key cannot mint more.',
        security: [{ basicAuth: [] }],
        body: ApiKeyCreateSchema,
        response: {
          201: Type.Ref('CreatedApiKey', { description: 'Created; `Location` names the key' }),
          ...authResponses,
          403: problem('The request was made with an API key; creating keys needs the password (`OperationNotAllowedError`)'),
          413: problem('The body is over 64 KiB'),
          415: problem('The body is not application/json'),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      if (request.authScheme !== 'basic') {
        throw new OperationNotAllowedError('Creating an API key needs your password (HTTP Basic), not an API key');
      }
      const key = await opts.apiKeys.create(request.user!.username, request.body);
      return reply.code(201).header('location', `${app.prefix}/${key.id}`).send(key);
    },
  );

  app.get(
    '/',
    {
      schema: {
        operationId: 'listApiKeys',
        tags: ['api keys'],
        summary: 'List your API keys',
        description: 'Newest first, revoked and expired ones included; never a token.',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        response: { 200: Type.Ref('ApiKeyList'), ...authResponses, ...problemResponses },
      },
    },
    async (request) => opts.apiKeys.list(request.user!.username),
  );

  app.delete(
    '/:id',
    {
      schema: {
        operationId: 'revokeApiKey',
        tags: ['api keys'],
        summary: 'Revoke one of your API keys',
        description: 'Its token stops working on the next request. Revoking a revoked key succeeds and changes nothing.',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        params: KeyIdParams,
        response: {
          204: Type.Null({ description: 'Revoked; the body is empty' }),
          ...authResponses,
          404: problem('You have no key with this id'),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      await opts.apiKeys.revoke(request.params.id, { owner: request.user!.username });
      return reply.code(204).send(null);
    },
  );
}
