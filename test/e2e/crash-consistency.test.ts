import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalImageGenerator } from '../../src/service/generation/index.js';
import { describeEachEngine, type EngineDatabase } from '../support/engines.js';
import { basicHeader } from '../support/test-app.js';
import { postImageOnOwnConnection, runCli, startServer, type ServerProcess } from '../support/cli-process.js';

const PASSWORD = 'crash test password';
const CREATES = 100;
const KILL_AFTER_ACKS = 30;
const SIZE = 128;

interface Ack {
  guid: string;
  prompt: string;
}

/** A create cut by the kill is unacknowledged: the client cannot know its fate. */
async function create(address: string, prompt: string): Promise<Ack | undefined> {
  const response = await postImageOnOwnConnection(address, basicHeader('admin', PASSWORD), prompt).catch(() => undefined);
  return response?.status === 201 ? { guid: (JSON.parse(response.body) as { guid: string }).guid, prompt } : undefined;
}

describeEachEngine((engine) => describe('SIGKILL during 100 concurrent creates', () => {
  let dir: string;
  let database: EngineDatabase;
  let servers: ServerProcess[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixyproxy-crash-'));
    database = await engine.open();
    servers = [];
  });
  afterEach(async () => {
    for (const server of servers) await server.kill();
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function env(): Record<string, string> {
    return {
      DATA_DIR: dir,
      DATABASE_URL: database.databaseUrl,
      PIXYPROXY_ADMIN_PASSWORD: PASSWORD,
      IMAGE_SIZE: `${SIZE}x${SIZE}`,
      CREATE_RATE_LIMIT: '100000',
    };
  }

  it('keeps every acknowledged image with identical bytes, no row without its file, and doctor sweeps only orphans', async () => {
    const server = await startServer(env());
    servers.push(server);
    const acks: Ack[] = [];
    // One create first, so the burst finds the credentials cached instead of running 100 scrypts.
    const warmUp = await create(server.address, 'crash test warm-up');
    expect(warmUp).toBeDefined();
    acks.push(warmUp!);
    let killed = false;
    const all = Array.from({ length: CREATES }, (_, i) =>
      create(server.address, `crash test image ${i}`).then((ack) => {
        if (ack && !killed) acks.push(ack);
        if (acks.length >= KILL_AFTER_ACKS + 1 && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      }),
    );
    await Promise.all(all);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(acks.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acks.length, 'the kill landed mid-way').toBeLessThan(CREATES);

    const restarted = await startServer(env());
    servers.push(restarted);
    const generator = new LocalImageGenerator({ width: SIZE, height: SIZE });
    let recovered = 0;
    for (const ack of acks) {
      const response = await fetch(`${restarted.address}/image/${ack.guid}/content`);
      expect(response.status, ack.guid).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(`"${sha}"`).toBe(response.headers.get('etag'));
      // The generator is deterministic: the same prompt must give exactly the bytes that were acknowledged.
      expect(sha).toBe(createHash('sha256').update((await generator.generate(ack.prompt)).bytes).digest('hex'));
      recovered += 1;
    }
    expect(await restarted.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const imageDir = join(dir, 'images');
    const rows = await database.db.all<{ filename: string }>('SELECT filename FROM image');
    const missing = rows.filter((row) => !existsSync(join(imageDir, row.filename)));
    expect(missing).toEqual([]);
    const withRow = new Set(rows.map((row) => row.filename));
    const files = await readdir(imageDir);
    const orphans = files.filter((name) => !withRow.has(name));
    console.log(`crash (${engine.name}): ${CREATES + 1} creates sent, ${acks.length} acknowledged, ${recovered} recovered; ${rows.length} rows committed, ${orphans.length} orphan/temp files`);

    // Age every file past the sweep's grace period, then let doctor loose: only orphans may go.
    const old = new Date(Date.now() - 60 * 60_000);
    for (const name of files) await utimes(join(imageDir, name), old, old);
    const doctor = await runCli(['doctor'], { DATA_DIR: dir, DATABASE_URL: database.databaseUrl, LOG_LEVEL: 'warn' });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`removed: ${orphans.length}`);
    expect((await readdir(imageDir)).sort()).toEqual([...withRow].sort());
  }, 180_000);
}));
