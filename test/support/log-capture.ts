import type { Logger } from 'pino';
import { createLogger } from '../../src/cli/logger.js';
import type { LogLevel } from '../../src/core/config.js';

export interface LogCapture {
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** The lines parsed as JSON. */
  records(): Array<Record<string, unknown>>;
}

/** The production logger (same redaction, same format) writing into memory. */
export function captureLogs(level: LogLevel = 'info'): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: level, logPretty: false }, { write: (line: string) => void lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
