import { afterEach, describe, expect, it } from 'vitest';
import { parseHttpDate } from '../../src/core/http-date.js';
import { retryAfterMsOf } from '../../src/service/generation/openai/openai-retry-policy.js';

const INSTANT = Date.UTC(1994, 10, 6, 8, 49, 37);
const zoneBefore = process.env['TZ'];
afterEach(() => {
  if (zoneBefore === undefined) delete process.env['TZ'];
  else process.env['TZ'] = zoneBefore;
});

describe('parseHttpDate (RFC 9110 section 5.6.7)', () => {
  it.each(['UTC', 'Asia/Tokyo', 'America/Los_Angeles'])('reads the three forms as the same GMT instant with TZ=%s', (zone) => {
    process.env['TZ'] = zone;
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(INSTANT);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(INSTANT);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(INSTANT);
  });

  it('reads an RFC 850 two-digit year more than 50 years ahead as the last century', () => {
    const thisYear = new Date().getUTCFullYear();
    const ahead = (thisYear + 60) % 100;
    const year = Math.floor(thisYear / 100) * 100 + ahead - (ahead > thisYear % 100 ? 100 : 0);
    const parsed = parseHttpDate(`Monday, 01-Jan-${String(ahead).padStart(2, '0')} 00:00:00 GMT`);
    expect(new Date(parsed!).getUTCFullYear()).toBe(year);
  });

  it.each([
    '2099-01-01',
    '2099',
    '1994-11-06T08:49:37Z',
    'Sun, 06 Nov 1994 08:49:37 PST',
    'Sun, 06 Nov 1994 08:49:37 +0000',
    'Sun, 06 Nov 1994 08:49:37 gmt',
    'sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun,  06 Nov 1994 08:49:37 GMT',
    'Sun, 06 November 1994 08:49:37 GMT',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun Nov 6 08:49:37 1994',
    'Sun Nov  6 08:49:37 1994 GMT',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    '',
  ])('refuses %j', (value) => {
    expect(parseHttpDate(value)).toBeUndefined();
  });
});

describe("the provider's Retry-After", () => {
  it('reads an asctime date as GMT in a zone east of UTC', () => {
    process.env['TZ'] = 'Asia/Tokyo';
    const inOneHour = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    const asctime = inOneHour.toUTCString().replace(/^(\w{3}), (\d{2}) (\w{3}) (\d{4}) ([\d:]{8}) GMT$/, (_m, day, date, month, year, time) =>
      `${day} ${month} ${String(Number(date)).padStart(2, ' ')} ${time} ${year}`);
    const wait = retryAfterMsOf(new Headers({ 'retry-after': asctime }));
    expect(wait).toBeGreaterThan(3_500_000);
    expect(wait).toBeLessThanOrEqual(3_601_000);
  });

  it('ignores a date in a form that is not an HTTP-date', () => {
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'tomorrow at noon' }))).toBeUndefined();
  });
});
