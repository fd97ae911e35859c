/**
 * Configuration from the environment, validated once at start-up.
 *
 * A service declares a spec (one field per variable, each with a description), parses it once in
 * `main.ts`, and passes the frozen result down. Parsing reports every problem at once.
 *
 * @example
 * const spec = { natsUrl: env.string("NATS_URL", "NATS server URL", { default: "nats://127.0.0.1:4222" }) };
 * const config = parseConfig(spec, process.env); // Readonly<{ natsUrl: string }>
 */

type Env = Record<string, string | undefined>;

/** One environment variable: its name, what it is for, and how to read it. */
export interface ConfigField<T> {
  readonly name: string;
  readonly description: string;
  /** Present when the variable may be unset. */
  readonly fallback?: { readonly value: T };
  /** Turns the raw text into a value, or returns an error message. */
  readonly parse: (raw: string) => { ok: true; value: T } | { ok: false; problem: string };
}

export type ConfigSpec = Record<string, ConfigField<unknown>>;
export type ConfigOf<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never;
};

/** Thrown by `parseConfig`; `problems` lists every invalid or missing variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** A rule over several variables together (read raw from the environment): the problems it finds. */
export type ConfigCheck = (environment: Env) => string[];

/**
 * Parses every field of `spec` from `environment`, then runs `checks` over it; throws a ConfigError naming
 * all problems.
 */
export function parseConfig<S extends ConfigSpec>(
  spec: S,
  environment: Env,
  checks: readonly ConfigCheck[] = [],
): ConfigOf<S> {
  const problems: string[] = checks.flatMap((check) => check(environment));
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    const raw = environment[field.name];
    if (raw === undefined || raw === "") {
      if (field.fallback) result[key] = field.fallback.value;
      else problems.push(`${field.name} is required: ${field.description}`);
      continue;
    }
    const parsed = field.parse(raw);
    if (parsed.ok) result[key] = parsed.value;
    else problems.push(`${field.name} ${parsed.problem}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(result) as ConfigOf<S>;
}

/** The variable names a spec reads, for documentation and for checking deployment files. */
export function configVariables(spec: ConfigSpec): string[] {
  return Object.values(spec).map((field) => field.name);
}

/**
 * Parses the configuration or, on failure, prints every problem and exits with status 1.
 * Only for `main.ts` files.
 */
export function parseConfigOrExit<S extends ConfigSpec>(
  spec: S,
  environment: Env,
  checks: readonly ConfigCheck[] = [],
): ConfigOf<S> {
  try {
    return parseConfig(spec, environment, checks);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
