import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findSwiftS3Script, startSwiftS3, stopSwiftS3, type ObjectStoreServer } from './object-store.js';
import { skipSuites } from './suite-server-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The S3 server the object-store suites use; endpoint '' when they are skipped. */
    objectStore: ObjectStoreServer;
  }
}

const SKIPPED: ObjectStoreServer = { endpoint: '', accessKeyId: '', secretAccessKey: '', region: '' };

/**
 * One real S3 server (Swift + s3api) per test run, shared by every test file; each file makes its own
 * bucket. When the control script is missing or the server cannot start, the S3 suites are skipped,
 * except under CI=true, where a skipped store would hide a failure.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const skip = (reason: string) => {
    skipSuites('object-store (S3)', reason);
    project.provide('objectStore', SKIPPED);
    return undefined;
  };
  const script = findSwiftS3Script();
  if (script === undefined) return skip('../shared/object-store/swift-s3 not found (set TEST_SWIFT_S3)');
  const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-swift-'));
  let server: ObjectStoreServer;
  try {
    server = await startSwiftS3(script, dir);
  } catch (error) {
    await stopSwiftS3(script, dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    return skip(`swift-s3 did not start: ${(error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join(' | ') ?? String(error)}`);
  }
  console.info(`object-store suites run against Swift s3api at ${server.endpoint}`);
  project.provide('objectStore', server);
  return async () => {
    await stopSwiftS3(script, dir);
    await rm(dir, { recursive: true, force: true });
  };
}
