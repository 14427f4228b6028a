// HTTP-dates are read in two places (conditional requests, and a provider's Retry-After), so the
// one parser lives here, free of any transport.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const TIME_OF_DAY = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three forms of RFC 9110 section 5.6.7, exactly: case-sensitive names, single spaces, "GMT".
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME_OF_DAY} GMT$`);
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME_OF_DAY} GMT$`,
);
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ( \\d|\\d{2}) ${TIME_OF_DAY} (\\d{4})$`);

/** Milliseconds since the epoch for UTC fields, or undefined when they name no real instant. */
function utcInstant(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const monthIndex = MONTHS.indexOf(month);
  // RFC 9110 5.6.7 allows second 60 (a leap second); JavaScript time has none, so it reads as :59.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const time = Date.UTC(year, monthIndex, day, hour, minute, Math.min(second, 59));
  const date = new Date(time);
  // Rejects 31 Feb and the like, which Date.UTC would roll over into March.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== monthIndex || date.getUTCDate() !== day) return undefined;
  return time;
}

/**
 * An HTTP-date (RFC 9110 section 5.6.7) as milliseconds since the epoch: IMF-fixdate
 * (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`)
 * or asctime (`Sun Nov  6 08:49:37 1994`), all read as GMT whatever the process time zone. Anything
 * else (ISO 8601, a bare year, another zone) is undefined, so the header that carried it is ignored.
 * The weekday is not checked against the date, as the RFC does not ask recipients to.
 */
export function parseHttpDate(value: string): number | undefined {
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, day, month, year, hour, minute, second] = match;
    return utcInstant(Number(year), month!, Number(day), Number(hour), Number(minute), Number(second));
  }
  match = RFC850_DATE.exec(value);
  if (match) {
    const [, day, month, yy, hour, minute, second] = match;
    // RFC 9110 5.6.7: a two-digit year more than 50 years in the future means the most recent past
    // year with those last two digits.
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utcInstant(year, month!, Number(day), Number(hour), Number(minute), Number(second));
  }
  match = ASCTIME_DATE.exec(value);
  if (match) {
    const [, month, day, hour, minute, second, year] = match;
    return utcInstant(Number(year), month!, Number(day!.trim()), Number(hour), Number(minute), Number(second));
  }
  return undefined;
}
