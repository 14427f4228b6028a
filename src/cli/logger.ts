import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../core/config.js';

/** Paths pino blanks out wherever they appear in a log object: credentials never reach a log line. */
// pino's `*` matches one level only, so the nested places a Config object puts secrets are listed
// both at the top and one level down (e.g. `{ config }`).
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'cookie',
  '*.cookie',
  'headers.cookie',
  'req.headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
  'password',
  '*.password',
  'adminPassword',
  '*.adminPassword',
  'database.password',
  '*.database.password',
  'apiKey',
  '*.apiKey',
  'openai.apiKey',
  '*.openai.apiKey',
  'api_key',
  '*.api_key',
  // An API key's token (the create answer's `token`), should a whole key object ever be logged.
  'token',
  '*.token',
  'endUserIdSecret',
  '*.endUserIdSecret',
];

/** JSON lines to stdout (or the given stream); pretty only when LOG_PRETTY asks for it. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'pixyproxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination) return pino(options, destination);
  if (config.logPretty) return pino({ ...options, transport: { target: 'pino-pretty' } });
  // Asynchronous stdout: under load, lines written while a write is in flight go out together in the
  // next one, instead of one blocking write syscall per line (two lines per request). An idle server
  // still writes each line at once; pino flushes what is pending when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
