import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Echoes the request id and logs the "request started" line. */
export function startRequest(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  request.server.requestLines.info(
    { reqId: request.id, method: request.method, path: request.url.split('?')[0], remote_address: request.ip },
    'request started',
  );
}

/** Logs the "request completed" line. */
export function finishRequest(request: FastifyRequest, reply: FastifyReply): void {
  request.server.requestLines.info(
    {
      reqId: request.id,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(request.user && { username: request.user.username }),
    },
    'request completed',
  );
}

/**
 * Exactly two lines per request, replacing Fastify's default pair (which logs whole request objects
 * and costs more): "request started" and "request completed", both carrying the request id.
 */
export const requestLogging = fp(
  async (app: FastifyInstance) => {
    // The two lines go through the app's logger without its redaction paths, made once. They carry
    // fixed fields only (method, path without the query, address, status, time, username), never a
    // header or a body, so there is nothing to redact; and redaction was the largest part of their
    // cost (about 40 of ~65 µs per request for the pair with pino 10 and our 23 paths, docs/BENCHMARKS.md).
    // The request id is a field of each line rather than a binding of the per-request child logger.
    // Every other line (errors, service events) still goes through the redacting logger.
    app.decorate('requestLines', app.log.child({}, { redact: [] }));
    // Callback hooks: they run on every request, and an async hook costs a promise each time for nothing.
    app.addHook('onRequest', (request, reply, done) => {
      startRequest(request, reply);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      finishRequest(request, reply);
      done();
    });
  },
  { name: 'request-logging' },
);
