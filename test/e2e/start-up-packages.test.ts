import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../support/cli-process.js';

// Loaded through their room's loader or on first use (src/cli/compose.ts, docs/BENCHMARKS.md "third
// round"): together about 1.5 s of CPU at every start, for parts a default server does not use.
const LAZY_PACKAGES = ['@aws-sdk/client-s3', 'bullmq', 'ioredis', 'sharp', 'pngjs'];

// Records every module the child loads: ESM resolutions through a module hook (it runs on Node's
// loader thread, so it appends to a file), and the CommonJS cache when the process exits.
const RECORDER = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const log = process.env.PIXYPROXY_TEST_MODULE_LOG;
const hook = 'import { appendFileSync } from "node:fs";' +
  'export async function resolve(specifier, context, next) {' +
  '  const resolved = await next(specifier, context);' +
  '  appendFileSync(' + JSON.stringify(log) + ', resolved.url + "\\\\n");' +
  '  return resolved;' +
  '}';
register('data:text/javascript,' + encodeURIComponent(hook));
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(log, Object.keys(require.cache).join('\\n') + '\\n'));
`;

let dir: string;
let server: ServerProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-start-up-'));
  await writeFile(join(dir, 'recorder.mjs'), RECORDER);
});
afterAll(async () => {
  await server?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('a server with the default configuration', () => {
  it('loads none of the packages of the object store, the shared queue, Redis or image encoding to start and answer reads', async () => {
    const log = join(dir, 'modules.log');
    server = await startServer({
      DATA_DIR: join(dir, 'data'),
      NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'recorder.mjs')).href}`,
      PIXYPROXY_TEST_MODULE_LOG: log,
    });
    for (const path of ['/health', '/image', '/image/options']) expect((await fetch(server.address + path)).status, path).toBe(200);
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    const loaded = (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '');
    const packageOf = (line: string) => LAZY_PACKAGES.find((name) => line.includes(`/node_modules/${name}/`));
    // The recorder saw the server's own packages, ESM and CommonJS alike: it can see a lazy one too.
    expect(loaded.some((line) => line.includes('/node_modules/fastify/'))).toBe(true);
    expect(loaded.some((line) => line.includes('/node_modules/better-sqlite3/'))).toBe(true);
    expect([...new Set(loaded.map(packageOf).filter((name) => name !== undefined))]).toEqual([]);
  });
});
