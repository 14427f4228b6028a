import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { GenerationOptions } from '../../core/models/generation-options.js';
import { problem } from './route-schemas.js';

export interface GenerationOptionsRoutesOptions {
  /** This server's models and their options, built once from the configuration (cli/compose.ts). */
  options: GenerationOptions;
}

/**
 * `GET /image/options`: the generation options `POST /image` takes on this server, per model, so a
 * client (the gallery's Generate form) can offer them instead of guessing. Public and read-only: it
 * says what the server accepts, nothing about who may create. Source: docs/API.md, "GET /image/options".
 */
export async function generationOptionsRoutes(instance: FastifyInstance, opts: GenerationOptionsRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/options',
    {
      schema: {
        operationId: 'getImageOptions',
        tags: ['images'],
        summary: 'The generation options POST /image takes on this server, per model',
        description:
          'Every model a create may name (the default first) with the values of `size`, `quality`, `background`, `output_format`, ' +
          '`moderation` and `style` it takes. `default` is what a create without the field gets; null: the provider decides.',
        response: { 200: Type.Ref('GenerationOptions', { description: "The server's models and their options" }), 500: problem('Unexpected server fault') },
      },
    },
    async () => opts.options,
  );
}
