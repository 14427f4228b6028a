import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { importViolations } from '../scripts/check-imports.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

let fixture: string | undefined;
afterEach(async () => {
  if (fixture !== undefined) await rm(fixture, { recursive: true, force: true });
  fixture = undefined;
});

/** A throwaway src/ tree made of the given files (path below src/ -> contents). */
async function srcTree(files: Record<string, string>): Promise<string> {
  fixture = await mkdtemp(join(tmpdir(), 'pixyproxy-arch-'));
  const src = join(fixture, 'src');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(src, path)), { recursive: true });
    await writeFile(join(src, path), text);
  }
  return src;
}

describe('the import graph of src/', () => {
  it('has only downward arrows, and enters every service room through its index.ts', () => {
    expect(importViolations(SRC)).toEqual([]);
  });

  it('reports an upward import', async () => {
    const src = await srcTree({
      'core/errors.ts': "import { buildApp } from '../web/app.js';\n",
      'web/app.ts': 'export const buildApp = 1;\n',
      'service/images/index.ts': '',
    });
    expect(importViolations(src)).toEqual([
      expect.objectContaining({ file: 'src/core/errors.ts', target: 'src/web/app.ts', rule: 'core may not import web' }),
    ]);
  });

  it('reports the web layer reaching into data', async () => {
    const src = await srcTree({
      'web/app.ts': "import type { Database } from '../data/database.js';\n",
      'data/database.ts': '',
      'service/images/index.ts': '',
    });
    expect(importViolations(src).map((v) => v.rule)).toEqual(['web may not import data']);
  });

  it('reports an import into another room that skips its entry point, and accepts one through it', async () => {
    const src = await srcTree({
      'service/images/private-image-service.ts':
        "import type { ImageStore } from '../storage/image-store.js';\nimport { FileImageStore } from '../storage/index.js';\n",
      'service/storage/image-store.ts': '',
      'service/storage/index.ts': '',
      'web/app.ts': "import { PublicImageService } from '../service/images/public-image-service.js';\n",
      'service/images/public-image-service.ts': '',
    });
    expect(importViolations(src)).toEqual([
      expect.objectContaining({ file: 'src/service/images/private-image-service.ts', specifier: '../storage/image-store.js', rule: 'enter the storage room through src/service/storage/index.ts' }),
      expect.objectContaining({ file: 'src/web/app.ts', rule: 'enter the images room through src/service/images/index.ts' }),
    ]);
  });

  it('reports a file lying loose in src/service/', async () => {
    const src = await srcTree({ 'service/schema-check.ts': '', 'service/images/index.ts': '' });
    expect(importViolations(src).map((v) => v.rule)).toEqual(['src/service/ holds only feature rooms']);
  });
});

describe('the test suite', () => {
  // vitest runs files with isolate: false (vitest.config.ts): a module replaced by vi.mock in one file
  // would be the real one, or a stale mock, depending on which file its worker ran first.
  it('replaces no module with vi.mock or vi.doMock (tests pass spies in instead)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const tests = resolve(SRC, '..', 'test');
    const files = (await readdir(tests, { recursive: true })).filter((name) => name.endsWith('.ts'));
    const mocking: string[] = [];
    const call = ['vi', 'mock'].join('.') + '(|' + ['vi', 'doMock'].join('.') + '(';
    const pattern = new RegExp(call.replace(/[.(]/g, '\\$&'));
    for (const name of files) if (pattern.test(await readFile(join(tests, name), 'utf8'))) mocking.push(name);
    expect(files.length).toBeGreaterThan(50);
    expect(mocking).toEqual([]);
  });
});
