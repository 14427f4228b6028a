import { Type, type Static } from 'typebox';

/** RFC 9457 problem details, as every error response carries them. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the problem type', examples: ['urn:pixyproxy:problem:record-not-found'] }),
    title: Type.String({ description: 'Short summary of the problem type' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    detail: Type.String({ description: 'What went wrong with this request' }),
    instance: Type.String({ description: 'Path of the request' }),
    error: Type.String({ description: 'Error class name', examples: ['RecordNotFoundError'] }),
    request_id: Type.String({ description: 'Same as the X-Request-Id response header' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'JSON pointer into the request, e.g. /body/tags/0' }),
          message: Type.String(),
        }),
        { description: 'Field-level problems, for validation failures' },
      ),
    ),
  },
  { $id: 'Problem' },
);
export type Problem = Static<typeof ProblemSchema>;
