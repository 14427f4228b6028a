import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
 * the process-level tests start dozens of them. Written under a temporary name and renamed, so two
 * test runs in one checkout never start a half-written file. Throws esbuild's error on a syntax error.
 */
export async function buildCliBundle(): Promise<void> {
  const result = await build({
    entryPoints: [join(PROJECT_ROOT, 'src', 'cli', 'pixyproxy.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output for the CLI');
  await mkdir(dirname(CLI_BUNDLE), { recursive: true });
  const temporary = `${CLI_BUNDLE}.${process.pid}.tmp`;
  await writeFile(temporary, output.contents);
  await rename(temporary, CLI_BUNDLE);
}
