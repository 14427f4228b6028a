import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** /openapi.json from the route schemas, and a docs UI at /docs. */
export const openApi = fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'pixyproxy',
          version: opts.version,
          description:
            'Generate images from text prompts, catalogue them and serve them. Errors are RFC 9457 problem+json, except under /v1 (OpenAI\'s error body).',
        },
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic' },
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'A pixyproxy API key (`pxy_...`), see /me/keys' },
          },
        },
        tags: [
          { name: 'images', description: 'The image catalogue' },
          { name: 'api keys', description: 'Your API keys: bearer tokens that act as you' },
          { name: 'openai', description: 'The OpenAI Images API under /v1, for OpenAI clients; errors in OpenAI\'s shape' },
          { name: 'operations', description: 'Health checks' },
        ],
      },
      refResolver: {
        // Keep the $id names (ImageDetail, Problem) as component names instead of def-0, def-1.
        buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`),
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
