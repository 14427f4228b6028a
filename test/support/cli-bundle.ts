import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The CLI as the process-level tests run it: `src/cli/pixyproxy.ts` and everything of ours it imports,
 * in one ES module; packages stay imports from node_modules. Two directories below the root, like
 * `dist/cli/pixyproxy.js`, so the paths the code finds relative to itself (package.json, ui/dist)
 * are the same as in `npm start`.
 */
export const CLI_BUNDLE = join(PROJECT_ROOT, '.test-build', 'cli', 'pixyproxy.js');

/**
 * Builds CLI_BUNDLE from the current sources (about 0.2 s of CPU). A child started from it loads in
 * about half the CPU time of `tsx src/cli/pixyproxy.ts`, which transpiles every file at each start;
 * the process-level tests start dozens of them. Code splitting keeps what the sources load with
 * `import()` (the AWS SDK, BullMQ, ioredis, sharp: cli/compose.ts) in chunks loaded only when
 * configured, as `dist/` does: in one file, esbuild hoists their package imports to the top, and a
 * `--help` took 1.0 s of CPU instead of 0.6 s. Chunks are named by their content hash and written
 * first; the entry is written under a temporary name and renamed, so two test runs in one checkout
 * never start a half-written build. Throws esbuild's error on a syntax error.
 */
export async function buildCliBundle(): Promise<void> {
  const outdir = dirname(CLI_BUNDLE);
  const result = await build({
    entryPoints: [join(PROJECT_ROOT, 'src', 'cli', 'pixyproxy.ts')],
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    outdir,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const entry = result.outputFiles.find((file) => file.path === CLI_BUNDLE);
  if (entry === undefined) throw new Error('esbuild produced no output for the CLI');
  await mkdir(outdir, { recursive: true });
  const chunks = result.outputFiles.filter((file) => file !== entry);
  await Promise.all(chunks.map((chunk) => writeFile(chunk.path, chunk.contents)));
  const temporary = `${CLI_BUNDLE}.${process.pid}.tmp`;
  await writeFile(temporary, entry.contents);
  await rename(temporary, CLI_BUNDLE);
  await removeStaleChunks(outdir, new Set(chunks.map((chunk) => basename(chunk.path))));
}

/** Chunks of earlier builds, once no run started in the last hour can still be loading them. */
async function removeStaleChunks(outdir: string, current: ReadonlySet<string>): Promise<void> {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of await readdir(outdir)) {
    if (!name.startsWith('chunk-') || current.has(name)) continue;
    const path = join(outdir, name);
    if ((await stat(path)).mtimeMs < hourAgo) await rm(path, { force: true });
  }
}
