import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../../../core/config.js';
import { ObjectStoreUnavailableError } from '../../../core/errors.js';
import type { ByteRange, ImageStore, StoredFile, StoredTemporary } from '../image-store.js';

// Keys are the configured prefix plus a name the service generated from a guid. Anything else in the
// bucket (other applications' objects under a shared prefix) is never listed, so never swept.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CONTENT_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp' };
/** Seconds a client is asked to wait after the store failed; a store outage is rarely shorter. */
const RETRY_AFTER_SECONDS = 5;

// Node's socket-level failures that mean "the store is not there right now", as opposed to a refusal.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET',
]);

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function sdkError(error: unknown): SdkError {
  return typeof error === 'object' && error !== null ? (error as SdkError) : {};
}

/** The object (not the bucket) does not exist. `NoSuchBucket` is a 404 too, but a misconfiguration. */
function isMissingObject(error: unknown): boolean {
  const { name, $metadata } = sdkError(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return $metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket';
}

function isUnavailable(error: unknown): boolean {
  const { name, code, $metadata } = sdkError(error);
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'SlowDown') return true;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  const status = $metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

export interface S3ImageStoreOptions extends S3Config {
  /** Bound on each operation, retries included; for reads, on the response headers (then: socket idle time). */
  timeoutMs: number;
  /** Explicit credentials; by default the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Most sockets open to the store at once (keep-alive pool). */
  maxSockets?: number;
}

/**
 * Image bytes as objects in one S3-compatible bucket (AWS S3, MinIO, R2, Ceph RGW, Swift s3api, GCS XML API).
 *
 * Client settings that make every such server work:
 * - `requestChecksumCalculation`/`responseChecksumValidation: 'WHEN_REQUIRED'`: SDK v3 otherwise adds CRC32
 *   flexible checksums (and aws-chunked uploads for streams), which many servers reject or ignore. Integrity
 *   of uploads is checked with `Content-MD5` instead, which every S3 server verifies.
 * - path-style addressing when an endpoint is given (`S3_FORCE_PATH_STYLE`), since bucket subdomains need
 *   wildcard DNS that self-hosted servers rarely have.
 *
 * Every call is bounded by `timeoutMs` (connect, response headers, and an overall deadline over the SDK's
 * retries); a timeout, network failure or 5xx becomes ObjectStoreUnavailableError (503 + Retry-After).
 * A missing object answers like a missing file: undefined / false. Other refusals (403, NoSuchBucket) are
 * misconfigurations and propagate as they are (500, logged with the cause).
 */
export class S3ImageStore implements ImageStore {
  readonly kind = 's3';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: S3ImageStoreOptions) {
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#timeoutMs = options.timeoutMs;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 128 };
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: options.timeoutMs,
        // Time to the response headers; by default the SDK only warns when it passes.
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
        // Idle time on the socket, which also bounds a body that stops arriving mid-stream.
        socketTimeout: options.timeoutMs,
        httpAgent: new Agent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      },
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
    };
    this.#client = new S3Client(config);
  }

  /** The object key a generated filename is stored under: the configured prefix plus the name. */
  keyFor(filename: string): string {
    if (!SAFE_NAME.test(filename)) throw new Error(`unsafe image filename: ${filename}`);
    return `${this.#prefix}${filename}`;
  }

  // Any key a row may name, also one written under an earlier S3_PREFIX: S3's safe characters only (as
  // the prefix is), a generated name at the end, no empty, `.` or `..` segments.
  #checkKey(key: string): string {
    const segments = key.split('/');
    const name = segments.at(-1) ?? '';
    if (key.length > 512 || !/^[A-Za-z0-9!_.*'()/-]+$/.test(key) || !SAFE_NAME.test(name)
      || segments.slice(0, -1).some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`not an image key: ${key}`);
    }
    return key;
  }

  /** Runs one SDK call under the store deadline, mapping faults to our errors. */
  async #call<T>(what: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Raced as well as passed down: a paginator, for one, cannot take the signal.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { name: 'TimeoutError' }));
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([run(controller.signal), deadline]);
    } catch (error) {
      throw this.#mapped(error, what, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  #mapped(error: unknown, what: string, timedOut: boolean): unknown {
    if (timedOut || sdkError(error).name === 'TimeoutError') {
      return new ObjectStoreUnavailableError(`The object store did not answer in time (${what})`, {
        cause: error,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    if (isUnavailable(error)) {
      return new ObjectStoreUnavailableError(`The object store is not reachable (${what})`, {
        cause: error,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    return error;
  }

  /**
   * One PutObject with `Content-Length` and `Content-MD5`: the store verifies the bytes and makes the
   * object visible whole or not at all, so a crash never leaves a partial object.
   */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.#checkKey(key);
    const extension = key.slice(key.lastIndexOf('.') + 1);
    await this.#call('put', (abortSignal) =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentMD5: createHash('md5').update(bytes).digest('base64'),
          ContentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
        }),
        { abortSignal },
      ),
    );
  }

  /**
   * A GetObject (with `Range: bytes=start-end` for a range) whose body is handed on as it arrives,
   * never buffered. The deadline covers the response headers; after them the socket idle timeout guards
   * the body, so a slow client downloading a large object is never cut off by the clock.
   */
  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    this.#checkKey(key);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const response = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          ...(range !== undefined && { Range: `bytes=${range.start}-${range.end}` }),
        }),
        { abortSignal: controller.signal },
      );
      return response.Body as Readable;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw this.#mapped(error, 'get', controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  async stat(key: string): Promise<StoredFile | undefined> {
    this.#checkKey(key);
    try {
      const head = await this.#call('head', (abortSignal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal }),
      );
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  /** S3 answers 204 to deleting a missing key, so a HEAD first tells whether anything was removed. */
  async remove(key: string): Promise<boolean> {
    if ((await this.stat(key)) === undefined) return false;
    await this.#call('delete', (abortSignal) =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal }),
    );
    return true;
  }

  /** Every image key under the prefix, one ListObjectsV2 page (up to 1000 keys) at a time. */
  async *list(): AsyncIterable<string> {
    const pages = paginateListObjectsV2({ client: this.#client, pageSize: 1000 }, { Bucket: this.#bucket, Prefix: this.#prefix });
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.#call('list', () => iterator.next());
      if (page.done) return;
      for (const object of page.value.Contents ?? []) {
        const key = object.Key;
        if (key !== undefined && SAFE_NAME.test(key.slice(this.#prefix.length))) yield key;
      }
    }
  }

  /** PutObject is atomic: an interrupted upload leaves nothing behind to sweep. */
  async *listTemporary(): AsyncIterable<StoredTemporary> {}

  async removeTemporary(name: string): Promise<boolean> {
    throw new Error(`an S3 store has no temporary objects: ${name}`);
  }

  /** Whether the bucket exists and these credentials may use it (HeadBucket), for `/ready`. */
  async ping(): Promise<void> {
    await this.#call('head bucket', (abortSignal) =>
      this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), { abortSignal }),
    );
  }

  /**
   * A presigned GET URL for one object, minted locally (no request to the store), valid for
   * `expiresInSeconds`. `Content-Type` and `Cache-Control` of the answer are pinned in the signature
   * so the store serves the bytes as the API documents them.
   */
  async presignGet(key: string, options: { expiresInSeconds: number; contentType: string; cacheControl: string }): Promise<string> {
    this.#checkKey(key);
    return getSignedUrl(
      this.#client,
      new GetObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        ResponseContentType: options.contentType,
        ResponseCacheControl: options.cacheControl,
      }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.#client.destroy();
  }
}
