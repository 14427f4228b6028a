import { buildCliBundle } from './cli-bundle.js';

/** Builds the CLI the process-level tests start, once per test run, from the sources as they are now. */
export default async function setup(): Promise<void> {
  await buildCliBundle();
}
