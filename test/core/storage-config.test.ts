import { describe, expect, it } from 'vitest';
import { describeImageStore, loadConfig } from '../../src/core/config.js';
import { ConfigurationError } from '../../src/core/errors.js';

describe('image store configuration', () => {
  it('keeps bytes on local disk by default, streamed, with no S3 bucket', () => {
    expect(loadConfig({}).storage).toEqual({
      kind: 'file',
      s3: undefined,
      timeoutMs: 10_000,
      contentDelivery: 'stream',
      presignExpiresSeconds: 300,
    });
  });

  it('reads the S3 variables, with path-style addressing when an endpoint is given', () => {
    const env = { IMAGE_STORE: 's3', S3_BUCKET: 'pixy-images', S3_PREFIX: 'prod/', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_REGION: 'eu-west-1' };
    expect(loadConfig(env).storage.s3).toEqual({
      bucket: 'pixy-images',
      prefix: 'prod/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
  });

  it('uses virtual-hosted addressing and AWS_REGION on AWS itself (no endpoint)', () => {
    const s3 = loadConfig({ IMAGE_STORE: 's3', S3_BUCKET: 'pixy-images', AWS_REGION: 'eu-central-1' }).storage.s3;
    expect(s3).toMatchObject({ endpoint: undefined, region: 'eu-central-1', forcePathStyle: false });
  });

  it('keeps the bucket configured with IMAGE_STORE=file, so rows written to S3 stay readable', () => {
    expect(loadConfig({ S3_BUCKET: 'pixy-images' }).storage).toMatchObject({ kind: 'file', s3: { bucket: 'pixy-images' } });
  });

  it('refuses IMAGE_STORE=s3 without S3_BUCKET, naming the variable', () => {
    expect(() => loadConfig({ IMAGE_STORE: 's3' })).toThrow(new ConfigurationError('IMAGE_STORE=s3 needs S3_BUCKET to be set'));
  });

  it.each([
    [{ IMAGE_STORE: 'disk' }, /IMAGE_STORE must be one of file, s3/],
    [{ S3_BUCKET: 'Pixy_Images' }, /S3_BUCKET must be a DNS-compatible bucket name/],
    [{ S3_BUCKET: 'pixy', S3_PREFIX: '/abs/' }, /S3_PREFIX/],
    [{ S3_BUCKET: 'pixy', S3_PREFIX: 'a/../b/' }, /S3_PREFIX/],
    [{ S3_BUCKET: 'pixy', S3_PREFIX: 'a//b/' }, /S3_PREFIX/],
    [{ S3_BUCKET: 'pixy', S3_PREFIX: 'bilder/größe/' }, /S3_PREFIX/],
    [{ S3_BUCKET: 'pixy', S3_ENDPOINT: '127.0.0.1:9000' }, /S3_ENDPOINT must be an http/],
    [{ S3_BUCKET: 'pixy', S3_FORCE_PATH_STYLE: 'maybe' }, /S3_FORCE_PATH_STYLE must be true or false/],
    [{ STORE_TIMEOUT_MS: '50' }, /STORE_TIMEOUT_MS must be between 100 and 600000/],
    [{ CONTENT_DELIVERY: 'cdn' }, /CONTENT_DELIVERY must be one of stream, redirect/],
    [{ PRESIGN_EXPIRES_SECONDS: '604801' }, /PRESIGN_EXPIRES_SECONDS must be between 1 and 604800/],
  ])('refuses %o at start-up', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('describes where new bytes go without credentials', () => {
    const env = { IMAGE_STORE: 's3', S3_BUCKET: 'pixy', S3_PREFIX: 'img/', S3_ENDPOINT: 'http://s3.internal:9000', AWS_SECRET_ACCESS_KEY: 'hunter2' };
    expect(describeImageStore(loadConfig(env))).toBe('s3://pixy/img/ at http://s3.internal:9000');
    expect(describeImageStore(loadConfig({ DATA_DIR: '/srv/pixy' }))).toBe('file:/srv/pixy/images');
  });
});
