import { randomUUID } from 'node:crypto';
import type { NewImage } from '../../src/core/models/image.js';

let sequence = 0;

/** A create request body; each call gets a distinct prompt. */
export function makeImageInput(overrides: { prompt?: string; tags?: string[] } = {}) {
  sequence += 1;
  return { prompt: overrides.prompt ?? `a lighthouse at dusk, study ${sequence}`, tags: overrides.tags ?? ['sea', 'light'] };
}

/** A repository-level insert, as the private service would build it. */
export function makeNewImage(overrides: Partial<NewImage> = {}): NewImage {
  sequence += 1;
  const guid = overrides.guid ?? randomUUID();
  const filename = overrides.filename ?? `${guid}.png`;
  return {
    guid,
    prompt: `prompt ${sequence}`,
    filename,
    object_store: 'file',
    object_key: filename,
    tags: ['test'],
    author: 'alice',
    content_type: 'image/png',
    byte_size: 100,
    sha256: 'a'.repeat(64),
    model: 'local',
    size: '64x64',
    revised_prompt: null,
    quality: null,
    background: null,
    output_format: 'png',
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, sequence)).toISOString(),
    ...overrides,
  };
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
