import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
}

function where(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench|scripts)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/** Self time per function, and per package/area, across the .cpuprofile files in a directory. */
export async function summariseProfiles(dir: string, top: number): Promise<string> {
  const selfHits = new Map<string, number>();
  const totalHits = new Map<string, number>();
  const areaHits = new Map<string, number>();
  let total = 0;
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const parent = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    for (const node of profile.nodes) {
      // Inclusive time: each function on the stack counts once per sample.
      const seen = new Set<string>();
      for (let at: ProfileNode | undefined = node; at !== undefined; at = parent.get(at.id)) seen.add(where(at));
      for (const key of seen) totalHits.set(key, (totalHits.get(key) ?? 0) + (node.hitCount ?? 0));
    }
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      total += hits;
      const key = where(node);
      selfHits.set(key, (selfHits.get(key) ?? 0) + hits);
      const url = node.callFrame.url;
      const area = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (/\/src\//.test(url) ? 'pixyproxy src' : url.startsWith('node:') ? 'node core' : node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : 'native/other');
      areaHits.set(area, (areaHits.get(area) ?? 0) + hits);
    }
  }
  const pct = (n: number) => `${((100 * n) / Math.max(total, 1)).toFixed(1)}%`;
  const rank = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => `  ${pct(hits).padStart(6)}  ${name}`);
  return [`profile ${dir} (${total} samples)`, 'by area:', ...rank(areaHits, 12), 'by function (self):', ...rank(selfHits, top),
    'by function (total, without node internals):', ...rank(new Map([...totalHits].filter(([name]) => !/ node:/.test(name) && !name.startsWith('('))), top)].join('\n');
}
