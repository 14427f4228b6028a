import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// A directory shaped like Vite's output, so these tests do not depend on a build having run.
const HTML = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script><div id="app"></div>';
let pageDir: string;
let t: TestApp;

beforeAll(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'pixyproxy-page-'));
  await mkdir(join(pageDir, 'assets'));
  await writeFile(join(pageDir, 'index.html'), HTML);
  await writeFile(join(pageDir, 'assets', 'index-abc123.js'), 'console.log("gallery")');
  t = await createTestApp({ app: { galleryDir: pageDir } });
});
afterAll(async () => {
  await t.close();
  await rm(pageDir, { recursive: true, force: true });
});

describe('the gallery page', () => {
  it('serves index.html at / with Cache-Control: no-cache', async () => {
    const response = await t.app.inject({ url: '/?q=fox&tag=sea' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toBe(HTML);
  });

  it('serves the same page for an image deep link', async () => {
    const response = await t.app.inject({ url: '/images/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(HTML);
  });

  it('sends a CSP that allows only same-origin scripts, never inline ones', async () => {
    const csp = String((await t.app.inject({ url: '/' })).headers['content-security-policy']);
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src '));
    expect(scriptSrc).toBe("script-src 'self'");
  });

  it('serves hashed assets as immutable for a year', async () => {
    const response = await t.app.inject({ url: '/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/javascript|^application\/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404 problem+json for an asset that does not exist', async () => {
    expectProblem(await t.app.inject({ url: '/assets/index-gone.js' }), 404, 'EndpointNotFoundError');
  });

  it('answers 404 problem+json saying how to build the page when it has not been built', async () => {
    const unbuilt = await createTestApp({ app: { galleryDir: join(pageDir, 'missing') } });
    try {
      const body = expectProblem(await unbuilt.app.inject({ url: '/' }), 404, 'EndpointNotFoundError');
      expect(body.detail).toContain('npm run build');
    } finally {
      await unbuilt.close();
    }
  });
});
