import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { JobBody } from '../../core/models/job.js';
import { deserializeError } from '../../core/errors.js';
import type { AccessService } from '../../service/access/index.js';
import type { GenerationJob } from '../../service/generation/index.js';
import type { ImageCreationService } from '../../service/images/index.js';
import { authenticateRequest } from '../authentication.js';
import { problemFor } from '../problem.js';
import { authResponses, problem, problemResponses } from './route-schemas.js';

export interface JobRoutesOptions {
  creation: ImageCreationService;
  access: AccessService;
}

/** Seconds a client is asked to wait before polling an unfinished job again. */
export const JOB_POLL_SECONDS = 2;

/** The wire form of a job; a failure becomes the problem+json POST /image would have answered. */
export function jobBody(job: GenerationJob, requestId: string): JobBody {
  const guid = job.imageGuid ?? job.id;
  return {
    id: job.id,
    status: job.status,
    created_at: job.createdAt,
    started_at: job.startedAt ?? null,
    finished_at: job.finishedAt ?? null,
    image: job.status === 'succeeded' ? { guid, href: `/image/${guid}` } : null,
    problem: job.failure === undefined ? null : problemFor(deserializeError(job.failure), '/image', requestId).body,
  };
}

/** GET /jobs/{id}: a generation job, for its owner or an admin (anyone else: 404). */
export async function jobRoutes(instance: FastifyInstance, opts: JobRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', authenticateRequest(opts.access));

  app.get(
    '/:id',
    {
      schema: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: 'A generation job started by POST /image',
        description:
          'The job of an asynchronous create (`Prefer: respond-async`). While it is `queued` or `running` the answer carries ' +
          '`Retry-After`; once `succeeded`, `image` links the new image; once `failed`, `problem` is what the synchronous ' +
          'call would have answered. Jobs are kept at least 24 hours. Only the user who started it, or an admin, sees it.',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        response: {
          200: Type.Ref('Job', { description: 'The job' }),
          ...authResponses,
          404: problem('No such job, older than the retention, or started by someone else'),
          429: problem('Too many failed logins from this client or against this username (`Retry-After`)'),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const job = await opts.creation.findJob(request.user!, request.params.id);
      if (job.status === 'queued' || job.status === 'running') reply.header('retry-after', String(JOB_POLL_SECONDS));
      return jobBody(job, request.id);
    },
  );
}
