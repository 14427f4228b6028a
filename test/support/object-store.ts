import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../../src/core/config.js';

/**
 * A real S3 server for tests: OpenStack Swift with its s3api middleware, started by the project's
 * `../shared/object-store/swift-s3` script (TEST_SWIFT_S3 overrides the path). One server per test
 * run (see object-store-global-setup.ts); each suite makes its own bucket.
 */

const run = promisify(execFile);
const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

/** What the S3 suites connect to; every field '' when they are skipped. */
export interface ObjectStoreServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The control script, or undefined when it is not there. */
export function findSwiftS3Script(): string | undefined {
  const path = resolve(PROJECT_ROOT, process.env['TEST_SWIFT_S3']?.trim() || '../shared/object-store/swift-s3');
  try {
    accessSync(path, constants.R_OK);
    return path;
  } catch {
    return undefined;
  }
}

function parseLines(stdout: string): ObjectStoreServer {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!);
  }
  const endpoint = values.get('S3_ENDPOINT');
  // Without an endpoint the SDK would quietly talk to AWS itself.
  if (!endpoint) throw new Error(`swift-s3 start printed no S3_ENDPOINT:\n${stdout}`);
  return {
    endpoint,
    accessKeyId: values.get('S3_ACCESS_KEY_ID') ?? '',
    secretAccessKey: values.get('S3_SECRET_ACCESS_KEY') ?? '',
    region: values.get('S3_REGION') ?? 'us-east-1',
  };
}

/** Starts the server with its data in `dir` (one process per daemon, the lightest setting). */
export async function startSwiftS3(script: string, dir: string): Promise<ObjectStoreServer> {
  const { stdout } = await run('bash', [script, 'start', dir], {
    env: { ...process.env, SWIFT_S3_WORKERS: process.env['SWIFT_S3_WORKERS'] ?? '0' },
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseLines(stdout);
}

export async function stopSwiftS3(script: string, dir: string): Promise<void> {
  await run('bash', [script, 'stop', dir], { timeout: 60_000 });
}

/**
 * Puts the server's keys where the AWS SDK's default credential chain looks first (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY), for apps built in this test process: the app reads credentials only from
 * that chain, never from its config. Each test file runs in its own process, so this stays in the file.
 */
export function useObjectStoreCredentials(server: ObjectStoreServer): void {
  process.env['AWS_ACCESS_KEY_ID'] = server.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = server.secretAccessKey;
}

/** A client for arranging and inspecting buckets directly, with the same settings the store uses. */
export function adminClient(server: ObjectStoreServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface TestBucket {
  /** The bucket as pixyproxy's S3 config, prefix '' unless asked for. */
  s3: S3Config;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The environment a pixyproxy process needs to use this bucket (IMAGE_STORE=s3 and credentials). */
  env: Record<string, string>;
  client: S3Client;
  /** Every key in the bucket, sorted. */
  keys(): Promise<string[]>;
  /** Empties and deletes the bucket. */
  destroy(): Promise<void>;
}

/** A new, empty bucket with a random name. */
export async function createTestBucket(server: ObjectStoreServer, prefix = ''): Promise<TestBucket> {
  const bucket = `pixyproxy-test-${randomBytes(6).toString('hex')}`;
  const client = adminClient(server);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys = async () => {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) found.push(object.Key);
      token = page.NextContinuationToken;
    } while (token);
    return found.sort();
  };
  return {
    s3: { bucket, prefix, endpoint: server.endpoint, region: server.region, forcePathStyle: true },
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    env: {
      IMAGE_STORE: 's3',
      S3_BUCKET: bucket,
      ...(prefix && { S3_PREFIX: prefix }),
      S3_ENDPOINT: server.endpoint,
      S3_REGION: server.region,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    },
    client,
    keys,
    async destroy() {
      for (const key of await keys()) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
    },
  };
}
