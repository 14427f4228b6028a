/**
 * Reads the import graph of src/ and reports every import that breaks the house rules
 * (docs/ARCHITECTURE.md, "Layers and rooms"):
 *
 * - layers only import downward: core <- data <- service <- web <- cli (core imports nothing of ours;
 *   web never imports data: it reaches the database only through services);
 * - src/service/ holds only feature rooms (folders), each entered through its `index.ts`: an import
 *   into a room from outside it names that file, never one inside the room.
 *
 * Run it with `npm run check:imports`; test/architecture.test.ts runs the same check.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ImportViolation {
  /** Importing file, relative to the project root (`src/web/app.ts`). */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** The file it resolves to, relative to the project root. */
  target: string;
  rule: string;
}

const LAYERS = ['core', 'data', 'service', 'web', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/** Which layers each layer may import (itself included). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  core: ['core'],
  data: ['core', 'data'],
  service: ['core', 'data', 'service'],
  web: ['core', 'service', 'web'],
  cli: ['core', 'data', 'service', 'web', 'cli'],
};

// `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Path parts below src/: `['service', 'images', 'index.ts']`. */
function partsOf(srcDir: string, file: string): string[] {
  return relative(srcDir, file).split(sep);
}

function layerOf(parts: readonly string[]): Layer | undefined {
  return LAYERS.find((layer) => layer === parts[0]);
}

/** The service room a file lives in (`images`), or undefined outside src/service/<room>/. */
function roomOf(parts: readonly string[]): string | undefined {
  return parts[0] === 'service' && parts.length > 2 ? parts[1] : undefined;
}

/** Every rule-breaking import under `srcDir` (the project's `src/`), in file order. */
export function importViolations(srcDir: string): ImportViolation[] {
  const root = dirname(srcDir);
  const violations: ImportViolation[] = [];
  const serviceDir = join(srcDir, 'service');
  for (const name of readdirSync(serviceDir)) {
    if (!statSync(join(serviceDir, name)).isDirectory() && name !== 'index.ts') {
      violations.push({ file: relative(root, join(serviceDir, name)), specifier: '', target: '', rule: 'src/service/ holds only feature rooms' });
    }
  }
  for (const file of sourceFiles(srcDir)) {
    const from = partsOf(srcDir, file);
    const fromLayer = layerOf(from);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[2]!;
      const targetPath = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      const report = (rule: string) =>
        violations.push({ file: relative(root, file), specifier, target: relative(root, targetPath), rule });
      if (!targetPath.startsWith(srcDir + sep)) {
        report('imports from outside src/');
        continue;
      }
      const to = partsOf(srcDir, targetPath);
      const toLayer = layerOf(to);
      if (fromLayer === undefined || toLayer === undefined) {
        report('every file lives in one of the layers core, data, service, web, cli');
        continue;
      }
      if (!ALLOWED[fromLayer].includes(toLayer)) report(`${fromLayer} may not import ${toLayer}`);
      const toRoom = roomOf(to);
      if (toRoom !== undefined && roomOf(from) !== toRoom && to.slice(2).join('/') !== 'index.ts') {
        report(`enter the ${toRoom} room through src/service/${toRoom}/index.ts`);
      }
    }
  }
  return violations;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const violations = importViolations(srcDir);
  for (const v of violations) console.error(`${v.file}: ${v.specifier ? `'${v.specifier}' -> ${v.target}: ` : ''}${v.rule}`);
  console.log(violations.length === 0 ? 'imports: every arrow points down and enters rooms through their index.ts' : `imports: ${violations.length} violation(s)`);
  process.exitCode = violations.length === 0 ? 0 : 1;
}
