import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { UsageQuerySchema } from '../../core/models/usage.js';
import type { MeteringService } from '../../service/metering/index.js';
import { prefersCsv, usageCsv } from '../usage-csv.js';
import { problem, problemResponses } from './route-schemas.js';

export interface UsageRoutesOptions {
  metering: MeteringService;
  /** The private router's login hook: sets `request.user` or throws 401/429. */
  authenticate: (request: FastifyRequest) => Promise<void>;
}

const privateResponses = {
  401: problem('Missing or wrong HTTP Basic credentials (with `WWW-Authenticate`)'),
  429: problem('Too many failed logins from this client or against this username (`Retry-After`)'),
  ...problemResponses,
};

/** GET /usage and GET /me, behind HTTP Basic auth; see docs/API.md "Usage, cost and quotas". */
export async function usageRoutes(instance: FastifyInstance, opts: UsageRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', opts.authenticate);

  app.get(
    '/usage',
    {
      schema: {
        operationId: 'getUsage',
        tags: ['usage'],
        summary: 'Images, tokens and cost per user, model or day',
        description:
          'From the usage ledger, in [from, to). An admin sees every user, anyone else only themselves. `Accept: text/csv` answers the same numbers as CSV (RFC 4180).',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        querystring: UsageQuerySchema,
        produces: ['application/json', 'text/csv'],
        response: {
          200: {
            description: 'The report',
            content: {
              'application/json': { schema: Type.Ref('UsageReport') },
              'text/csv': { schema: Type.String({ description: 'A header line, one line per group, a `total` line; CRLF' }) },
            },
          },
          ...privateResponses,
        },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const report = await opts.metering.report(
        { username: user.username, isAdmin: user.is_admin },
        { from: request.query.from, to: request.query.to, groupBy: request.query.group_by },
      );
      reply.header('vary', 'Accept');
      if (prefersCsv(request.headers.accept)) {
        return reply.type('text/csv; charset=utf-8; header=present').send(usageCsv(report));
      }
      return reply.type('application/json; charset=utf-8').send(report);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        operationId: 'getMe',
        tags: ['usage'],
        summary: 'The caller, their quotas and their use in the current periods',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        response: { 200: Type.Ref('Me', { description: 'The caller' }), ...privateResponses },
      },
    },
    async (request) => {
      const user = request.user!;
      return opts.metering.me({ username: user.username, isAdmin: user.is_admin });
    },
  );
}
