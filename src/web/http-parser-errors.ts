import { randomUUID } from 'node:crypto';
import { maxHeaderSize as defaultMaxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  BadRequestError,
  ExpectationFailedError,
  type PixyproxyError,
  RequestHeaderFieldsTooLargeError,
  RequestTimeoutError,
  UriTooLongError,
} from '../core/errors.js';
import { problemFor } from './problem.js';

/** Node's parser error: `code` is llhttp's (`HPE_*`) or Node's own; `rawPacket` the bytes it choked on (a Buffer). */
export interface ClientError extends Error {
  code?: string;
  rawPacket?: unknown;
}

function packetOf(error: ClientError): Buffer | undefined {
  return Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined;
}

const DETAIL_BY_CODE: Record<string, string> = {
  HPE_INVALID_METHOD: 'The request method is not a valid HTTP method',
  HPE_INVALID_URL: 'The request target is not a valid URL',
  HPE_INVALID_CONSTANT: 'The request line is malformed',
  HPE_INVALID_VERSION: 'The HTTP version is not supported',
  HPE_INVALID_HEADER_TOKEN: 'A header line is malformed (a header name must be a token followed by a colon)',
  HPE_LF_EXPECTED: 'A line of the request does not end with CRLF',
  HPE_CR_EXPECTED: 'A line of the request does not end with CRLF',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is not valid, or is sent together with Content-Length',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length is sent more than once or together with Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a valid number',
  HPE_INVALID_CHUNK_SIZE: 'A chunk size of the chunked body is not valid',
};

// The request line as llhttp would have read it: method, space, origin-form path (no query).
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (\/[!-~]*?)(?:[?#][!-~]*)? HTTP\/\d\.\d\r?\n/;
const MAX_INSTANCE_LENGTH = 2048;

/** The request path if the bytes start with a readable request line, else `/`. */
function instanceOf(rawPacket: Buffer | undefined): string {
  const head = rawPacket?.subarray(0, MAX_INSTANCE_LENGTH + 64).toString('latin1') ?? '';
  const path = REQUEST_LINE.exec(head)?.[1];
  return path !== undefined && path.length <= MAX_INSTANCE_LENGTH ? path : '/';
}

/**
 * The error a parser failure is answered with. Node counts the request line into its header limit
 * (`maxHeaderSize`, 16 KiB), so an overflow whose bytes never finish the first line is a URI that is
 * too long (414); any other overflow is 431. Timeouts are 408 and every other parse error is 400
 * with a detail naming what was wrong. RFC 9110 section 15.5, RFC 6585 section 5.
 */
export function parserErrorOf(error: ClientError, maxHeaderSize = defaultMaxHeaderSize): PixyproxyError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW': {
      // The packet holds the request line when it starts with one; the line is what overflowed
      // when its end lies past the limit.
      const packet = packetOf(error);
      const startsRequest = packet !== undefined && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \//.test(packet.subarray(0, 64).toString('latin1'));
      const lineEnd = packet?.indexOf('\n') ?? -1;
      const firstLineEnds = !startsRequest || (lineEnd >= 0 && lineEnd < maxHeaderSize);
      return firstLineEnds
        ? new RequestHeaderFieldsTooLargeError('The request headers are larger than the server accepts (16 KiB)', { cause: error })
        : new UriTooLongError('The request target is longer than the server accepts', { cause: error });
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutError('The request did not arrive in full in time', { cause: error });
    default:
      return new BadRequestError(DETAIL_BY_CODE[error.code ?? ''] ?? 'The request could not be read as HTTP/1.1', { cause: error });
  }
}

/** A whole HTTP/1.1 problem+json response, for writing straight to a socket. */
export function rawProblemResponse(error: PixyproxyError, instance: string, requestId: string, securityHeaders: Readonly<Record<string, string>>): string {
  const { status, body } = problemFor(error, instance, requestId);
  const json = JSON.stringify(body);
  const headers = {
    ...securityHeaders,
    'x-request-id': requestId,
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': String(Buffer.byteLength(json)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${json}`;
}

// A client that never closes its side after the answer does not keep the socket.
const LINGER_MS = 5_000;

/**
 * Fastify's `clientErrorHandler`: answers what Node's HTTP parser refused (oversized headers, a
 * malformed request or header line, an invalid method, a request timeout) like every other error,
 * as RFC 9457 problem+json with a fresh request id and the security headers, and logs one line with
 * that id. The socket is ended rather than destroyed, so the answer is not lost to a reset while the
 * rest of a refused request is still arriving.
 */
export function clientErrorHandler(securityHeaders: Readonly<Record<string, string>>, log: () => FastifyBaseLogger) {
  return (error: ClientError, socket: Socket): void => {
    // A reset connection has no one to answer (as in Fastify's and Node's own handlers).
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    const requestId = randomUUID();
    const refused = parserErrorOf(error);
    const instance = instanceOf(packetOf(error));
    const { status } = problemFor(refused, instance, requestId);
    log().info(
      { reqId: requestId, status, error: refused.name, code: error.code, remote_address: socket.remoteAddress },
      'request refused by the HTTP parser',
    );
    // A response already under way on this connection cannot be followed by another.
    if (!socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    socket.end(rawProblemResponse(refused, instance, requestId, securityHeaders));
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(linger));
  };
}

const UNMET_EXPECTATION = Symbol('unmet expectation');

/**
 * Requests Node would answer by itself, bypassing our handler: an HTTP/1.1 request without `Host`
 * (Node's bare 400; RFC 9112 3.2 requires a 400) and an `Expect` other than `100-continue` (Node's
 * bare 417, RFC 9110 10.1.1). Node is told to pass both on (`requireHostHeader: false` and a
 * `checkExpectation` listener), and this hook refuses them as problems, so they get the request id,
 * headers and log lines of any other request.
 */
export const protocolRequirements = fp(
  async (app: FastifyInstance) => {
    app.server.on('checkExpectation', (request: IncomingMessage & { [UNMET_EXPECTATION]?: true }, response: ServerResponse) => {
      request[UNMET_EXPECTATION] = true;
      app.server.emit('request', request, response);
    });
    app.addHook('onRequest', (request, _reply, done) => {
      const raw = request.raw as IncomingMessage & { [UNMET_EXPECTATION]?: true };
      if (raw.httpVersion === '1.1' && raw.headers.host === undefined) {
        done(new BadRequestError('An HTTP/1.1 request must have a Host header (RFC 9112 section 3.2)'));
      } else if (raw[UNMET_EXPECTATION]) {
        done(new ExpectationFailedError('The only expectation this server meets is "Expect: 100-continue"'));
      } else {
        done();
      }
    });
  },
  { name: 'protocol-requirements' },
);
