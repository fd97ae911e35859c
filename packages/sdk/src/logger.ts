/**
 * What the SDK needs from a logger. A `@secrets/logger` Logger, pino and console-like objects whose
 * methods take `(message, fields)` fit. The SDK logs identifiers and states, never a value or a token.
 */
export interface SecretsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The default: one JSON object per line, info on stdout and warnings on stderr. */
export function jsonLogger(component = "secrets-sdk"): SecretsLogger {
  const line = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ time: new Date().toISOString(), level, component, msg: message, ...fields });
  return {
    info: (message, fields) => process.stdout.write(`${line("info", message, fields)}\n`),
    warn: (message, fields) => process.stderr.write(`${line("warn", message, fields)}\n`),
  };
}

/** A logger that drops everything. */
export const silentSecretsLogger: SecretsLogger = { info: () => {}, warn: () => {} };
