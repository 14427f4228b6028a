/**
 * The ceiling for this machine: a bare node:http server answering pixyproxy's own bodies (an image's
 * detail, a 50-image page, the 1 MiB PNG, its 304) from memory, with no routing, validation, database,
 * logging or file I/O. Started by bench/run.ts as a child process; prints its port on stdout.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const detail = readFileSync(process.env['BENCH_DETAIL_FILE']!);
const list = readFileSync(process.env['BENCH_LIST_FILE']!);
const png = readFileSync(process.env['BENCH_PNG_FILE']!);
const etag = process.env['BENCH_ETAG']!;

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  if (url.endsWith('/content')) {
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, etag });
    response.end(png);
    return;
  }
  const body = url.startsWith('/image?') || url === '/image' ? list : detail;
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
