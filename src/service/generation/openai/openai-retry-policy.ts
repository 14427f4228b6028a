import { parseHttpDate } from '../../../core/http-date.js';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How long the provider asks us to wait, from `retry-after-ms` or `retry-after` (seconds or a date). */
export function retryAfterMsOf(headers: Headers | undefined): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  // Seconds are read as the SDK reads them (parseFloat), since it is the SDK that waits.
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  // RFC 9110 10.2.3: otherwise an HTTP-date, always GMT whatever our time zone.
  const date = parseHttpDate(raw.trim());
  return date === undefined ? undefined : Math.max(0, date - Date.now());
}

function errorCodeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Why a failed attempt must not be retried, or undefined to leave the decision to the SDK. */
export async function vetoReason(response: Response, deadline: number): Promise<string | undefined> {
  // A 409 from the images endpoint is not a lock timeout worth repeating a paid call for.
  if (response.status === 409) return 'conflict';
  if (response.status !== 429 && response.status !== 503) return undefined;
  const wait = retryAfterMsOf(response.headers);
  if (wait !== undefined && Date.now() + wait >= deadline) return 'retry-after beyond the deadline';
  if (response.status === 429 && errorCodeOf(await response.clone().text()) === 'insufficient_quota') {
    return 'quota exhausted';
  }
  return undefined;
}

/**
 * A fetch for the SDK that vetoes the retries it would make in vain. The SDK retries 408, 409, 429 and
 * 5xx by itself; we stop it (with its own `x-should-retry: false` convention) when the account is out of
 * quota (a 429 that no wait will fix), when the provider asks us to wait past the generation deadline
 * (better a prompt 503 with its Retry-After than a 504 later), and on 409.
 */
export function retryPolicyFetch(deadline: number, base: Fetch = fetch): Fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.ok) return response;
    const reason = await vetoReason(response, deadline);
    if (reason === undefined) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(await response.arrayBuffer(), { status: response.status, statusText: response.statusText, headers });
  };
}
