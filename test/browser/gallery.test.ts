/// <reference lib="dom" />
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDetail } from '../../src/core/models/image.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { PROJECT_ROOT, runCli, startServer, type ServerProcess } from '../support/cli-process.js';
import { basicHeader } from '../support/test-app.js';

// The gallery page end to end: the page as `npm run build` makes it, served by the real
// `pixyproxy serve` process on loopback, driven in Debian's chromium by role and accessible name.

const ADMIN = { username: 'admin', password: 'admin password for the browser test' };
const BOB = { username: 'bob', password: 'bob password for the browser test' };
const SEEDED = 60;
const SCREENSHOTS = join(PROJECT_ROOT, 'docs/screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server: ServerProcess;
let browser: Browser;
let dataDir: string;

/** A seeded prompt: every tenth mentions a fox, the rest a lighthouse. */
const promptOf = (i: number) => (i % 10 === 0 ? `a red fox in fresh snow, study ${i}` : `a lighthouse at dusk, study ${i}`);
/** Seeded tags: every third image is tagged sea. */
const tagsOf = (i: number) => (i % 3 === 0 ? ['sea', 'coast'] : ['dusk']);

async function api<T>(path: string, init: RequestInit = {}, who = ADMIN): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.address}${path}`, {
    ...init,
    headers: { authorization: basicHeader(who.username, who.password), 'content-type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
}

async function openPage(viewport = DESKTOP): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, baseURL: server.address, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { page, context, errors };
}

const grid = (page: Page) => page.getByRole('list', { name: 'Images' });

async function signIn(page: Page, who = BOB): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign in' });
  await dialog.getByLabel('Username').fill(who.username);
  await dialog.getByLabel('Password').fill(who.password);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), SIGN_IN_WAIT).toBe(true);
}

/** Saves a screenshot once every image in the viewport has loaded (lazy ones below it are not asked for). */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.waitForFunction(() =>
    [...document.images]
      .filter((img) => img.getBoundingClientRect().top < window.innerHeight && img.getBoundingClientRect().bottom > 0)
      .every((img) => img.complete && img.naturalWidth > 0),
  );
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

// Signing in hashes the password with scrypt on the server: on a loaded machine that takes well over
// expect.poll's default second, which is not what these tests are about.
const SIGN_IN_WAIT = { timeout: 15_000 };

describe.skipIf(!chromiumAvailable())('the gallery page in chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    // The same build `npm run build` runs, so the page under test is the page that ships.
    await build({ configFile: join(PROJECT_ROOT, 'ui/vite.config.ts'), logLevel: 'warn' });
    dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-browser-'));
    const env = { DATA_DIR: dataDir };
    for (const [who, flags] of [[ADMIN, ['--admin']], [BOB, []]] as const) {
      const added = await runCli(['user', 'add', who.username, ...flags, '--password-stdin'], env, `${who.password}\n`);
      expect(added.code, added.stderr).toBe(0);
    }
    // A verified password is trusted for the whole run (AUTH_CACHE_TTL_MS), so each test's sign-in
    // does not pay for scrypt again; wrong passwords are never cached.
    server = await startServer({ ...env, IMAGE_SIZE: '384x256', CREATE_RATE_LIMIT: '100000', AUTH_FAILURE_LIMIT: '1000', AUTH_CACHE_TTL_MS: '600000' });
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('tells an empty catalogue how to create the first image', async () => {
    const { page, context, errors } = await openPage();
    await page.goto('/');
    await expect.poll(() => page.getByRole('heading', { name: 'No images yet' }).isVisible()).toBe(true);
    expect(await page.getByText('POST /image').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  describe('with a catalogue', () => {
    beforeAll(async () => {
      for (let i = 0; i < SEEDED; i++) {
        const created = await api<ImageDetail>('/image', { method: 'POST', body: JSON.stringify({ prompt: promptOf(i), tags: tagsOf(i) }) });
        expect(created.status).toBe(201);
      }
    }, 120_000);

    it('browses newest first with thumbnails and loads more pages while scrolling', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      const images = grid(page).getByRole('img');
      await expect.poll(() => images.count()).toBeGreaterThanOrEqual(24);
      expect(await images.count()).toBeLessThan(SEEDED);
      const first = images.first();
      expect(await first.getAttribute('alt')).toBe(promptOf(SEEDED - 1));
      expect(await first.getAttribute('loading')).toBe('lazy');
      expect(await first.getAttribute('srcset')).toMatch(/content\?w=128 128w, .*content\?w=256 256w, .*content\?w=512 512w, .*content\?w=1024 1024w$/);
      await expect.poll(() => first.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      await screenshot(page, 'grid-desktop');
      await expect
        .poll(async () => {
          await page.mouse.wheel(0, 4000);
          return images.count();
        }, { timeout: 30_000 })
        .toBe(SEEDED);
      expect(await images.last().getAttribute('alt')).toBe(promptOf(0));
      expect(errors).toEqual([]);
      await context.close();
    });

    it('lays the grid out in two columns on a phone, without sideways scrolling', async () => {
      const { page, context, errors } = await openPage(PHONE);
      await page.goto('/');
      const images = grid(page).getByRole('img');
      await expect.poll(() => images.count()).toBeGreaterThanOrEqual(4);
      const [a, b, c] = await Promise.all([0, 1, 2].map((n) => images.nth(n).boundingBox()));
      expect(a!.y).toBe(b!.y);
      expect(c!.y).toBeGreaterThan(a!.y);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await expect.poll(() => images.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      await screenshot(page, 'grid-phone');
      expect(errors).toEqual([]);
      await context.close();
    });

    it('searches prompts from the search box, shows the search as a removable filter, and goes back', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await expect.poll(() => grid(page).getByRole('img').count()).toBeGreaterThan(0);
      await page.getByRole('searchbox', { name: 'Search prompts' }).fill('fox');
      await page.getByRole('searchbox', { name: 'Search prompts' }).press('Enter');
      await expect.poll(() => new URL(page.url()).search).toBe('?q=fox');
      const images = grid(page).getByRole('img');
      await expect.poll(() => images.count()).toBe(6);
      const alts = await images.evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
      expect(alts).toEqual([50, 40, 30, 20, 10, 0].map(promptOf));
      await page.getByRole('link', { name: 'Remove filter Search: fox' }).click();
      await expect.poll(() => new URL(page.url()).search).toBe('');
      await page.goBack();
      await expect.poll(() => new URL(page.url()).search).toBe('?q=fox');
      await expect.poll(() => images.count()).toBe(6);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('filters by a tag clicked on a tile, and removes the filter again', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await page.getByRole('link', { name: '#sea' }).first().click();
      await expect.poll(() => new URL(page.url()).searchParams.get('tag')).toBe('sea');
      const images = grid(page).getByRole('img');
      await expect.poll(() => images.count()).toBe(SEEDED / 3);
      expect(await page.getByRole('link', { name: 'Remove filter Tag: sea' }).isVisible()).toBe(true);
      await page.getByRole('link', { name: 'Remove filter Tag: sea' }).click();
      await expect.poll(() => page.url()).toBe(`${server.address}/`);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('opens a shared link with every filter, and going back from an image returns the focus to its tile', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/?q=fox&tag=sea&author=admin');
      const images = grid(page).getByRole('img');
      // Foxes are every tenth image, sea every third: 30 and 0.
      await expect.poll(() => images.evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')))).toEqual([30, 0].map(promptOf));
      for (const filter of ['Search: fox', 'Tag: sea', 'Author: admin']) {
        expect(await page.getByRole('link', { name: `Remove filter ${filter}` }).isVisible()).toBe(true);
      }
      expect(await page.getByRole('searchbox', { name: 'Search prompts' }).inputValue()).toBe('fox');
      const tile = grid(page).getByRole('link', { name: promptOf(0), exact: true });
      await tile.focus();
      await page.keyboard.press('Enter');
      const heading = page.getByRole('heading', { name: promptOf(0) });
      await expect.poll(() => heading.evaluate((element) => element === document.activeElement)).toBe(true);
      await page.goBack();
      await expect.poll(() => new URL(page.url()).search).toBe('?q=fox&tag=sea&author=admin');
      await expect.poll(() => tile.evaluate((link) => link === document.activeElement)).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('opens an image, downloads the original, copies its link, and comes back', async () => {
      const { page, context, errors } = await openPage();
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.address });
      await page.goto('/');
      const newest = promptOf(SEEDED - 1);
      await page.getByRole('link', { name: newest }).click();
      await expect.poll(() => page.getByRole('heading', { name: newest }).isVisible()).toBe(true);
      const guid = /\/images\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
      expect(guid).toBeDefined();
      const detail = (await api<ImageDetail>(`/image/${guid}`)).body;
      for (const fact of ['384x256', 'PNG', 'local', 'admin']) expect(await page.getByText(fact, { exact: false }).first().isVisible()).toBe(true);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
      expect(download.suggestedFilename()).toBe(`${guid}.png`);
      expect((await stat(await download.path())).size).toBe(detail.byte_size);

      await page.getByRole('button', { name: 'Copy link' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Link copied' }).isVisible()).toBe(true);
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.address}/images/${guid}`);
      await screenshot(page, 'image-desktop');

      await page.goBack();
      await expect.poll(() => page.url()).toBe(`${server.address}/`);
      await expect.poll(() => grid(page).getByRole('img').first().getAttribute('alt')).toBe(newest);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('opens an image page from a shared link on a phone, and says when a link names no image', async () => {
      const { page, context, errors } = await openPage(PHONE);
      const [newest] = (await api<ImageDetail[]>('/image?limit=1')).body;
      await page.goto(`/images/${newest!.guid}`);
      await expect.poll(() => page.getByRole('heading', { name: newest!.prompt }).isVisible()).toBe(true);
      await expect.poll(() => page.getByRole('img', { name: newest!.prompt }).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      await screenshot(page, 'image-phone');
      expect(errors).toEqual([]);

      // A link cut short names no image: the page says so, and leads back.
      await page.goto(`/images/${newest!.guid.slice(0, 20)}`);
      await expect.poll(() => page.getByRole('heading', { name: 'Image not found' }).isVisible()).toBe(true);
      expect(await page.getByRole('alert').textContent()).toMatch(/does not name an image/);
      await page.getByRole('link', { name: 'Back to the gallery' }).click();
      await expect.poll(() => grid(page).getByRole('img').count()).toBeGreaterThan(0);
      // The browser itself reports the refused GET /image/{guid}; nothing else reaches the console.
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/400/);
      await context.close();
    });

    it('refuses a wrong password with the problem detail, then signs in, keeping credentials out of localStorage', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const dialog = page.getByRole('dialog', { name: 'Sign in' });
      await dialog.getByLabel('Username').fill(BOB.username);
      await dialog.getByLabel('Password').fill('not the password');
      await dialog.getByRole('button', { name: 'Sign in' }).click();
      const wrong = await api<{ detail: string }>('/me', {}, { username: BOB.username, password: 'not the password' });
      await expect.poll(() => dialog.getByRole('alert').textContent()).toBe(wrong.body.detail);
      expect(await dialog.isVisible()).toBe(true);

      await dialog.getByLabel('Password').fill(BOB.password);
      await dialog.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), SIGN_IN_WAIT).toBe(true);
      expect(await dialog.count()).toBe(0);
      expect(await page.getByRole('banner').getByText(BOB.username, { exact: true }).isVisible()).toBe(true);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
      // The browser reports the refused GET /me itself; nothing else may reach the console.
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/401/);
      await context.close();
    });

    it("generates an image with the server's options, a visible progress state, shows it first and on its page with the chosen size and format", async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await signIn(page);
      const form = page.getByRole('form', { name: 'Generate an image' });
      await form.getByLabel('Prompt').fill('a paper boat on a puddle');
      await form.getByLabel('Tags').fill('Rain, boat');
      // The options GET /image/options answers, each preset to the server's default.
      const select = (name: string) => form.getByRole('group', { name: 'Options' }).getByRole('combobox', { name });
      const selected = (name: string) => select(name).evaluate((element: HTMLSelectElement) => element.selectedOptions[0]?.textContent);
      await expect.poll(() => select('Model').isVisible()).toBe(true);
      expect([await selected('Model'), await selected('Size'), await selected('Format')]).toEqual(['local (default)', '384x256 (default)', 'PNG (default)']);
      expect(await form.getByRole('combobox').count()).toBe(3);
      await select('Size').selectOption('256x256');
      await select('Format').selectOption({ label: 'WebP' });
      await screenshot(page, 'generate-desktop');
      // Hold the request in the browser until the progress state has been seen; the server is real.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route((url) => url.pathname === '/image', async (route) => {
        if (route.request().method() === 'POST') await held;
        await route.continue();
      });
      await form.getByRole('button', { name: 'Generate' }).click();
      await expect.poll(() => form.getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
      expect(await form.getByRole('status').textContent()).toMatch(/Generating/);
      release();
      await expect.poll(() => grid(page).getByRole('img').first().getAttribute('alt')).toBe('a paper boat on a puddle');
      expect(await form.getByRole('button', { name: 'Generate' }).isEnabled()).toBe(true);
      const [newest] = (await api<ImageDetail[]>('/image?limit=1')).body;
      expect(newest).toMatchObject({ prompt: 'a paper boat on a puddle', author: BOB.username, tags: ['boat', 'rain'], model: 'local', size: '256x256', content_type: 'image/webp' });

      await grid(page).getByRole('link', { name: 'a paper boat on a puddle' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'a paper boat on a puddle' }).isVisible()).toBe(true);
      const facts = await page.getByRole('definition').allTextContents();
      expect(facts).toEqual(expect.arrayContaining(['local', '256x256', expect.stringMatching(/^WebP, /)]));
      expect(errors).toEqual([]);
      await context.close();
    });

    it('shows the problem detail when a generation is refused', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await signIn(page);
      const form = page.getByRole('form', { name: 'Generate an image' });
      await form.getByLabel('Prompt').fill('a tagged image');
      await form.getByLabel('Tags').fill('x'.repeat(65));
      await form.getByRole('button', { name: 'Generate' }).click();
      await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/tags/);
      // The field the problem names is marked invalid, and described by the problem's detail.
      expect(await form.getByLabel('Tags').getAttribute('aria-invalid')).toBe('true');
      expect(await form.getByRole('textbox', { name: 'Tags' }).evaluate((field) => field.getAttribute('aria-describedby'))).toBe(
        await form.getByRole('alert').getAttribute('id'),
      );
      expect(await form.getByLabel('Prompt').getAttribute('aria-invalid')).toBeNull();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/400/);
      await context.close();
    });

    it('shows the generate form on a phone', async () => {
      const { page, context, errors } = await openPage(PHONE);
      await page.goto('/');
      await signIn(page);
      const form = page.getByRole('form', { name: 'Generate an image' });
      await form.getByLabel('Prompt').fill('a kite over the dunes');
      await form.getByLabel('Tags').fill('beach, wind');
      await expect.poll(() => form.getByRole('combobox', { name: 'Format' }).isVisible()).toBe(true);
      await form.getByRole('combobox', { name: 'Format' }).selectOption({ label: 'JPEG' });
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await screenshot(page, 'generate-phone');
      expect(errors).toEqual([]);
      await context.close();
    });

    it("lets the author edit an image's tags and delete it after confirming, and offers neither on others' images", async () => {
      const { page, context, errors } = await openPage();
      const own = (await api<ImageDetail>('/image', { method: 'POST', body: JSON.stringify({ prompt: 'a tin robot', tags: ['toy'] }) }, BOB)).body;
      const [others] = (await api<ImageDetail[]>('/image?author=admin&limit=1')).body;
      await page.goto(`/images/${others!.guid}`);
      await signIn(page);
      await expect.poll(() => page.getByRole('heading', { name: others!.prompt }).isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Edit tags' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);

      await page.goto(`/images/${own.guid}`);
      await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), SIGN_IN_WAIT).toBe(true);
      const hasFocus = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);
      await page.getByRole('button', { name: 'Edit tags' }).click();
      // The form takes the focus when it opens and gives it back to "Edit tags" when it closes.
      await expect.poll(() => hasFocus(page.getByRole('textbox', { name: 'Tags' }))).toBe(true);
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type('harbour, Night');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByRole('link', { name: '#night' }).isVisible()).toBe(true);
      expect(await page.getByRole('link', { name: '#harbour' }).isVisible()).toBe(true);
      expect((await api<ImageDetail>(`/image/${own.guid}`)).body.tags).toEqual(['harbour', 'night']);
      await expect.poll(() => hasFocus(page.getByRole('button', { name: 'Edit tags' }))).toBe(true);

      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      const confirm = page.getByRole('alertdialog', { name: 'Delete this image?' });
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      expect((await api(`/image/${own.guid}`)).status).toBe(200);
      await expect.poll(() => hasFocus(page.getByRole('button', { name: 'Delete', exact: true }))).toBe(true);
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm.getByRole('button', { name: 'Delete image' }).click();
      await expect.poll(() => page.url()).toBe(`${server.address}/`);
      expect((await api(`/image/${own.guid}`)).status).toBe(404);
      await expect.poll(() => grid(page).getByRole('img').count()).toBeGreaterThan(0);
      expect(await grid(page).getByRole('img', { name: 'a tin robot' }).count()).toBe(0);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('signs out, forgetting the credentials', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await signIn(page);
      await page.reload();
      // The session lasts for the tab, so a reload keeps it.
      await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), SIGN_IN_WAIT).toBe(true);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
      expect(await page.getByRole('form', { name: 'Generate an image' }).count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('can be used with the keyboard alone, with a visible focus ring', async () => {
      const { page, context, errors } = await openPage();
      await page.goto('/');
      await expect.poll(() => grid(page).getByRole('img').count()).toBeGreaterThan(0);
      const focusedName = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
      for (let presses = 0; presses < 15 && (await focusedName()) !== 'Sign in'; presses++) await page.keyboard.press('Tab');
      expect(await focusedName()).toBe('Sign in');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline).not.toBe('none');
      await page.keyboard.press('Enter');
      // As a person would, type once the form is there: the dialog moves the focus to Username when it opens.
      await expect.poll(() => page.getByLabel('Username').evaluate((field) => field === document.activeElement), SIGN_IN_WAIT).toBe(true);
      await page.keyboard.type(BOB.username);
      await page.keyboard.press('Tab');
      await page.keyboard.type(BOB.password);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), SIGN_IN_WAIT).toBe(true);
      // The dialog is gone: the focus moves to the button that replaced "Sign in", not to the page's start.
      await expect.poll(focusedName).toBe('Sign out');
      // On into the Generate form; a select is operated with the arrow keys.
      const form = page.getByRole('form', { name: 'Generate an image' });
      await expect.poll(() => form.getByRole('combobox', { name: 'Size' }).isVisible()).toBe(true);
      await page.keyboard.press('Tab');
      expect(await form.getByLabel('Prompt').evaluate((field) => field === document.activeElement)).toBe(true);
      for (let presses = 0; presses < 5 && (await page.evaluate(() => document.activeElement?.getAttribute('name'))) !== 'size'; presses++) {
        await page.keyboard.press('Tab');
      }
      const size = form.getByRole('combobox', { name: 'Size' });
      expect(await size.evaluate((select) => select === document.activeElement)).toBe(true);
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
      await page.keyboard.press('ArrowDown');
      expect(await size.inputValue()).toBe('256x256');
      expect(errors).toEqual([]);
      await context.close();
    });
  });
});
