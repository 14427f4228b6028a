/**
 * The ceiling for this machine: a bare node:http server answering pixyproxy's own bodies (an image's
 * detail, a 50-image page, the 64 KiB and 1 MiB PNGs, their 304s) from memory, with no routing,
 * validation, database, logging or file I/O. Started by bench/run.ts as a child process; prints its
 * port on stdout. BENCH_CONTENT is JSON: `[{ guid, file, etag }]`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const detail = readFileSync(process.env['BENCH_DETAIL_FILE']!);
const list = readFileSync(process.env['BENCH_LIST_FILE']!);
const contents = new Map(
  (JSON.parse(process.env['BENCH_CONTENT']!) as { guid: string; file: string; etag: string }[]).map((c) => [
    `/image/${c.guid}/content`,
    { bytes: readFileSync(c.file), etag: c.etag },
  ]),
);

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  const content = contents.get(url);
  if (content !== undefined) {
    if (request.headers['if-none-match'] === content.etag) {
      response.writeHead(304, { etag: content.etag });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': content.bytes.length, etag: content.etag });
    response.end(content.bytes);
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
