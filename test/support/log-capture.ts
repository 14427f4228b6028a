import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** The lines parsed as JSON. */
  records(): Array<Record<string, unknown>>;
}

/** The production logger (same redaction) writing into memory. */
export function captureLog(level: 'info' | 'debug' | 'trace' = 'info'): CapturedLog {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const logger = createLogger({ logLevel: level, logPretty: false }, destination);
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
