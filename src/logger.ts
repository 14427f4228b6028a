import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './core/config.js';

/** Paths pino blanks out wherever they appear in a log object: credentials never reach a log line. */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
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
