import { afterAll, beforeAll, expect, it } from 'vitest';
import { BadRequestError } from '../../../src/core/errors.js';
import { SqlImageRepository } from '../../../src/data/image-repository.js';
import { migrate } from '../../../src/data/migrator.js';
import { encodeCursor, PublicImageService } from '../../../src/service/images/index.js';
import { describeEachEngine, type EngineDatabase } from '../../support/engines.js';
import { makeNewImage } from '../../support/factories.js';
import { InMemoryImageStore, inMemoryStorage } from '../../support/fakes.js';

const GUID = '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41';
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const issued = encodeCursor({ createdAt: '2026-01-01T00:00:00.000Z', guid: GUID });

// Cursors the server could not have issued. Each would otherwise reach the database, where SQLite
// compares the text and MariaDB converts (or rejects) the time, so the two would answer differently.
const FORGED: ReadonlyArray<readonly [string, string]> = [
  ['not base64 of a key', 'definitely-not-a-cursor'],
  ['a key with a bad guid', base64url('2026-01-01T00:00:00.000Z|nope')],
  ['a key with extra parts', base64url(`2026-01-01T00:00:00.000Z|${GUID}|x`)],
  ['an impossible month, day and time', base64url(`2026-13-45T99:99:99.999Z|${GUID}`)],
  ['the 30th of February', base64url(`2026-02-30T00:00:00.000Z|${GUID}`)],
  ['24:00', base64url(`2026-01-01T24:00:00.000Z|${GUID}`)],
  ['a time before 1970', base64url(`0001-01-01T00:00:00.000Z|${GUID}`)],
  ['a time without milliseconds', base64url(`2026-01-01T00:00:00Z|${GUID}`)],
  ['a time with an offset', base64url(`2026-01-01T00:00:00.000+00:00|${GUID}`)],
  ['an upper-case guid', base64url(`2026-01-01T00:00:00.000Z|${GUID.toUpperCase()}`)],
  ['a guid with a trailing space', base64url(`2026-01-01T00:00:00.000Z|${GUID} `)],
  ['padded base64url', `${issued}==`],
  ['standard base64 of the same key', Buffer.from(`2026-01-01T00:00:00.000Z|${GUID}`).toString('base64').replace(/=+$/, '') + '+'],
  ['an issued cursor with a character the decoder skips', `${issued.slice(0, 8)}.${issued.slice(8)}`],
];

describeEachEngine((engine) => {
  let e: EngineDatabase;
  let service: PublicImageService;

  beforeAll(async () => {
    e = await engine.open();
    await migrate(e.db);
    const images = new SqlImageRepository(e.db);
    // Rows on both sides of every forged key, so an accepted cursor would show in the answer.
    await images.insert(makeNewImage({ created_at: '2025-06-01T00:00:00.000Z' }));
    await images.insert(makeNewImage({ created_at: '2027-06-01T00:00:00.000Z' }));
    service = new PublicImageService(images, inMemoryStorage(new InMemoryImageStore()));
  });
  afterAll(() => e.close());

  it.each(FORGED)('refuses %s with BadRequestError pointing at /querystring/after', async (_case, after) => {
    const error = await service.list({ after }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).errors).toEqual([{ path: '/querystring/after', message: 'is not a valid cursor' }]);
  });

  it('accepts a cursor it issued and continues after its key', async () => {
    const page = await service.list({ after: issued });
    expect(page.images.map((image) => image.created_at)).toEqual(['2025-06-01T00:00:00.000Z']);
  });
});
