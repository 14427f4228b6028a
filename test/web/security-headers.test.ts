import { afterEach, describe, expect, it } from 'vitest';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';
import { captureLogs } from '../support/log-capture.js';
import { makeImageInput } from '../support/factories.js';

let t: TestApp | undefined;
afterEach(() => t?.close());

describe('security headers', () => {
  it('sends helmet headers on JSON, problem+json, image and docs responses', async () => {
    t = await createTestApp();
    const auth = await t.addUser();
    const { guid } = await t.createImage(auth);
    for (const url of ['/health', `/image/${guid}`, `/image/${guid}/content`, '/image/not-a-uuid', '/nowhere', '/docs/']) {
      const response = await t.app.inject({ url });
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(response.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
      expect(response.headers['strict-transport-security'], url).toMatch(/max-age=\d+/);
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('serves image bytes with nosniff and lets other sites embed them', async () => {
    t = await createTestApp();
    const auth = await t.addUser();
    const { guid } = await t.createImage(auth);
    const response = await t.app.inject({ url: `/image/${guid}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('serves the docs UI and every asset it links under a CSP that allows them', async () => {
    t = await createTestApp();
    const page = await t.app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    // No inline scripts: everything the page runs comes from this origin, which script-src 'self' allows.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset, 'assets are same-origin').not.toMatch(/^(https?:)?\/\//);
      const response = await t.app.inject({ url: new URL(asset, 'http://localhost/docs/').pathname });
      expect(response.statusCode, asset).toBe(200);
    }
    const spec = await t.app.inject({ url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe('3.1.0');
  });
});

describe('TRUST_PROXY', () => {
  async function failLogins(forwardedFor: string, times: number) {
    for (let i = 0; i < times; i++) {
      await t!.app.inject({
        method: 'POST',
        url: '/image',
        headers: { authorization: basicHeader('alice', `wrong ${i}`), 'x-forwarded-for': forwardedFor },
        payload: makeImageInput(),
      });
    }
  }

  function createFrom(forwardedFor: string, authorization: string) {
    return t!.app.inject({ method: 'POST', url: '/image', headers: { authorization, 'x-forwarded-for': forwardedFor }, payload: makeImageInput() });
  }

  it('when on, limits failed logins by the X-Forwarded-For address and logs that address', async () => {
    const log = captureLogs();
    t = await createTestApp({ env: { AUTH_FAILURE_LIMIT: '2' }, app: { trustProxy: true, logger: log.logger } });
    const auth = await t.addUser('alice', 'correct horse battery');
    await failLogins('203.0.113.7', 2);
    expect((await createFrom('203.0.113.7', auth)).statusCode).toBe(429);
    expect((await createFrom('203.0.113.8', auth)).statusCode).toBe(201);
    const started = log.records().filter((r) => r['msg'] === 'request started').map((r) => r['remote_address']);
    expect(started).toContain('203.0.113.7');
    expect(started).toContain('203.0.113.8');
    expect(started).not.toContain('127.0.0.1');
  });

  it('when off, ignores X-Forwarded-For so a client cannot escape the limit by forging it', async () => {
    const log = captureLogs();
    t = await createTestApp({ env: { AUTH_FAILURE_LIMIT: '2' }, app: { trustProxy: false, logger: log.logger } });
    const auth = await t.addUser('alice', 'correct horse battery');
    await failLogins('203.0.113.7', 2);
    expect((await createFrom('203.0.113.8', auth)).statusCode).toBe(429);
    const started = log.records().filter((r) => r['msg'] === 'request started').map((r) => r['remote_address']);
    expect(new Set(started)).toEqual(new Set(['127.0.0.1']));
  });
});
