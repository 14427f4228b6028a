import { connect } from 'node:net';

/** One HTTP/1.1 response as it crossed the wire. */
export interface RawResponse {
  /** The status line and header lines, as sent. */
  head: string;
  status: number;
  /** The same as `status`, named as inject() names it, so expectProblem reads either. */
  statusCode: number;
  /** Header values by lower-case name; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON. */
  json(): unknown;
}

/**
 * Writes bytes to the server on a fresh connection and reads until the server closes it. For what
 * app.inject() cannot show: answers from Node's HTTP parser, and headers as they are really sent.
 * Ask for `Connection: close` (rawExchange does) or send something the server must refuse.
 */
export function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server refusing a request may reset the connection while our bytes are still unread; what
    // it wrote before that is the answer.
    socket.on('error', (error) => {
      if (chunks.length === 0) reject(error);
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) {
        reject(new Error(`no complete response: ${JSON.stringify(all.toString('latin1'))}`));
        return;
      }
      const head = all.subarray(0, split).toString('latin1');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(statusLine.split(' ')[1]);
      const body = all.subarray(split + 4);
      resolve({ head, status, statusCode: status, headers, body, json: () => JSON.parse(body.toString('utf8')) as unknown });
    });
  });
}

/** A well-formed request on its own connection (`Connection: close`), headers in the given order. */
export function rawExchange(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n`);
}
