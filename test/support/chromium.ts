import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (never a browser downloaded by Playwright); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Whether the browser suites can run. Without chromium they are skipped with a warning, except under
 * CI=true, where a missing browser must fail the run (`.ci/run` installs it).
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env['CI'] === 'true') throw new Error(`CI=true but no chromium at ${CHROMIUM_PATH}; install Debian's chromium package`);
  console.warn(`browser tests skipped: no chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH or install Debian's chromium)`);
  return false;
}

/** Headless chromium with background networking and everything else a test does not need switched off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
