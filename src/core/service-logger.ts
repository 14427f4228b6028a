/** The slice of a pino logger services use, so they log without depending on the web layer. */
export interface ServiceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: ServiceLogger = { info() {}, warn() {}, error() {} };
