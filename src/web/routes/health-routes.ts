import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ReadinessCheck } from './readiness-check.js';
import { problem } from './route-schemas.js';

const Status = (value: string) => Type.Object({ status: Type.Literal(value) });

/** Liveness (the process answers) and readiness (the database answers), for orchestrators. */
export async function healthRoutes(instance: FastifyInstance, opts: { readiness: ReadinessCheck }) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/health',
    { schema: { operationId: 'health', tags: ['operations'], summary: 'The process is alive', response: { 200: Status('ok') } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        operationId: 'ready',
        tags: ['operations'],
        summary: 'The database is reachable',
        response: { 200: Status('ready'), 503: problem('The database is unavailable') },
      },
    },
    async () => {
      await opts.readiness.check();
      return { status: 'ready' as const };
    },
  );
}
