import { Type, type Static } from 'typebox';
import { GuidSchema } from './image.js';

/** A generation job as GET /jobs/{id} and an async POST /image (202) answer it; docs/API.md "Jobs". */
export const JobSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'The job id; also the guid the image gets' }),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')], {
      description: '`queued` (accepted, waiting for a worker), `running`, then `succeeded` or `failed`',
    }),
    created_at: Type.String({ format: 'date-time', description: 'When the job was accepted' }),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When a worker (last) started it' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it succeeded or failed' }),
    image: Type.Union(
      [
        Type.Object({
          guid: GuidSchema,
          href: Type.String({ description: 'Path of the image detail, `/image/{guid}`' }),
        }),
        Type.Null(),
      ],
      { description: 'Once succeeded: the image made' },
    ),
    problem: Type.Union([Type.Ref('Problem'), Type.Null()], {
      description: 'Once failed: the problem+json the synchronous POST /image would have answered',
    }),
  },
  { $id: 'Job' },
);
export type JobBody = Static<typeof JobSchema>;
