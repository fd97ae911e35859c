import { accessSync, constants, statSync } from "node:fs";
import type { ConfigField } from "./config.ts";

interface Options<T> {
  /** The value when the variable is unset or empty; without it the variable is required. */
  default?: T;
}

function field<T>(
  name: string,
  description: string,
  options: Options<T>,
  parse: ConfigField<T>["parse"],
): ConfigField<T> {
  return options.default === undefined
    ? { name, description, parse }
    : { name, description, parse, fallback: { value: options.default } };
}

/** Field constructors for `parseConfig` specs. */
export const env = {
  string(name: string, description: string, options: Options<string> & { pattern?: RegExp } = {}) {
    return field(name, description, options, (raw) =>
      options.pattern && !options.pattern.test(raw)
        ? { ok: false, problem: `must match ${options.pattern}` }
        : { ok: true, value: raw },
    );
  },

  /** Optional text: `undefined` when unset. */
  optionalString(name: string, description: string): ConfigField<string | undefined> {
    return { name, description, fallback: { value: undefined }, parse: (raw) => ({ ok: true, value: raw }) };
  },

  /** Optional path to a file that must exist and be readable at start-up: `undefined` when unset. */
  optionalFile(name: string, description: string): ConfigField<string | undefined> {
    return {
      name,
      description,
      fallback: { value: undefined },
      parse: (raw) => {
        try {
          accessSync(raw, constants.R_OK);
          return statSync(raw).isFile()
            ? { ok: true, value: raw }
            : { ok: false, problem: `names ${raw}, which is not a file` };
        } catch {
          return { ok: false, problem: `names ${raw}, which does not exist or cannot be read` };
        }
      },
    };
  },

  url(name: string, description: string, options: Options<string> & { protocols?: string[] } = {}) {
    return field(name, description, options, (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return { ok: false, problem: "must be a URL" };
      }
      if (options.protocols && !options.protocols.includes(url.protocol.replace(/:$/, ""))) {
        return { ok: false, problem: `must use one of: ${options.protocols.join(", ")}` };
      }
      return { ok: true, value: raw };
    });
  },

  /**
   * One or more URLs, comma-separated (the servers of a cluster), each checked as `url` checks one; the
   * value stays the text as given, spaces around the commas removed.
   */
  urlList(name: string, description: string, options: Options<string> & { protocols?: string[] } = {}) {
    const one = env.url(name, description, options.protocols ? { protocols: options.protocols } : {});
    return field(name, description, options, (raw) => {
      const urls = raw.split(",").map((url) => url.trim());
      const problems: string[] = [];
      urls.forEach((url, index) => {
        const parsed = one.parse(url);
        if (!parsed.ok)
          problems.push(urls.length === 1 ? parsed.problem : `URL ${index + 1} ("${url}") ${parsed.problem}`);
      });
      return problems.length > 0
        ? { ok: false, problem: problems.join("; ") }
        : { ok: true, value: urls.join(",") };
    });
  },

  /** An optional URL: `undefined` when unset. */
  optionalUrl(name: string, description: string, options: { protocols?: string[] } = {}) {
    const inner = env.url(name, description, options);
    return { ...inner, fallback: { value: undefined } } as ConfigField<string | undefined>;
  },

  int(name: string, description: string, options: Options<number> & { min?: number; max?: number } = {}) {
    return field(name, description, options, (raw) => {
      if (!/^-?\d+$/.test(raw)) return { ok: false, problem: "must be an integer" };
      const value = Number(raw);
      if (options.min !== undefined && value < options.min)
        return { ok: false, problem: `must be at least ${options.min}` };
      if (options.max !== undefined && value > options.max)
        return { ok: false, problem: `must be at most ${options.max}` };
      return { ok: true, value };
    });
  },

  bool(name: string, description: string, options: Options<boolean> = {}) {
    return field(name, description, options, (raw) => {
      const value = raw.toLowerCase();
      if (["true", "1", "yes"].includes(value)) return { ok: true, value: true };
      if (["false", "0", "no"].includes(value)) return { ok: true, value: false };
      return { ok: false, problem: "must be true or false" };
    });
  },

  oneOf<const T extends string>(
    name: string,
    description: string,
    values: readonly T[],
    options: Options<T> = {},
  ) {
    return field<T>(name, description, options, (raw) =>
      (values as readonly string[]).includes(raw)
        ? { ok: true, value: raw as T }
        : { ok: false, problem: `must be one of: ${values.join(", ")}` },
    );
  },
};
