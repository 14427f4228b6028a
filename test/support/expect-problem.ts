import { expect } from 'vitest';
import type { Problem } from '../../src/core/models/problem.js';

/** What expectProblem reads: an inject() response, or a RawResponse from a real socket. */
export interface ResponseLike {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  json(): unknown;
}

/**
 * Asserts an RFC 9457 problem+json response of the given status and error class, carrying every
 * documented member, with `request_id` equal to the X-Request-Id header. Returns the body.
 */
export function expectProblem(response: ResponseLike, status: number, error: string): Problem {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Problem;
  expect(body).toMatchObject({ status, error, request_id: response.headers['x-request-id'] });
  for (const member of ['type', 'title', 'detail', 'instance', 'request_id'] as const) {
    expect(typeof body[member], member).toBe('string');
    expect(body[member].length, member).toBeGreaterThan(0);
  }
  expect(body.type).toMatch(/^urn:pixyproxy:problem:[a-z-]+$/);
  return body;
}

/** The paths of the field errors in a validation problem. */
export function errorPaths(body: Problem): string[] {
  return (body.errors ?? []).map((e) => e.path);
}
