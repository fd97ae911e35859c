/**
 * Structured logging: one JSON object per line on stdout (stderr for warn and error).
 *
 * Callers pass identifiers and outcomes, never secret values or tokens; `redactKeys` is a second line of
 * defence that blanks fields whose names suggest a credential.
 */

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  level: LogLevel;
  /** Receives each finished line; defaults to stdout/stderr. */
  write?: (line: string, level: LogLevel) => void;
}

const redactKeys = /^(value|token|secret|password|authorization|cookie|plaintext)$/i;

function defaultWrite(line: string, level: LogLevel): void {
  if (level === "warn" || level === "error") process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
}

/**
 * An error as a log field: name, message and SQLSTATE-like code, following `cause` a few levels. An error
 * that carries query parameters (drizzle's query errors quote the SQL and its parameters, ciphertext
 * included, in their message) is described by its cause alone.
 */
export function describeError(error: Error, depth = 0): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error && depth < 3 ? describeError(error.cause, depth + 1) : undefined;
  if ("params" in error) return { name: error.name, ...(cause ? { cause } : {}) };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(cause ? { cause } : {}),
  };
}

function serialise(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (redactKeys.test(key)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = describeError(value);
    else out[key] = value;
  }
  return out;
}

/** Creates a logger that writes lines at `level` and above. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = logLevels.indexOf(options.level);
  const write = options.write ?? defaultWrite;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (logLevels.indexOf(level) < threshold) return;
    const line = {
      time: new Date().toISOString(),
      level,
      service: options.service,
      msg: message,
      ...serialise({ ...bound, ...fields }),
    };
    write(JSON.stringify(line), level);
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ service: "silent", level: "error", write: () => {} });
