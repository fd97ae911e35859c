import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configVariables, env, parseConfig } from "./index.ts";

const spec = {
  url: env.url("NATS_URL", "NATS server", { default: "nats://127.0.0.1:4222", protocols: ["nats", "tls"] }),
  port: env.int("GRPC_PORT", "gRPC port", { default: 50051, min: 1, max: 65535 }),
  insecure: env.bool("GRPC_INSECURE", "plaintext gRPC", { default: false }),
  level: env.oneOf("LOG_LEVEL", "log level", ["debug", "info"] as const, { default: "info" }),
  name: env.string("NAME", "required name", { pattern: /^[a-z]+$/ }),
  loki: env.optionalUrl("LOKI_URL", "Loki"),
};

describe("parseConfig", () => {
  it("applies defaults and parses values", () => {
    const config = parseConfig(spec, { NAME: "vault", GRPC_PORT: "6000", GRPC_INSECURE: "true" });
    expect(config).toEqual({
      url: "nats://127.0.0.1:4222",
      port: 6000,
      insecure: true,
      level: "info",
      name: "vault",
      loki: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("lists every problem at once", () => {
    const attempt = () =>
      parseConfig(spec, {
        NATS_URL: "http://x",
        GRPC_PORT: "70000",
        GRPC_INSECURE: "maybe",
        LOG_LEVEL: "loud",
        LOKI_URL: "not a url",
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(6);
      expect(problems.join("\n")).toMatch(/NATS_URL must use one of: nats, tls/);
      expect(problems.join("\n")).toMatch(/GRPC_PORT must be at most 65535/);
      expect(problems.join("\n")).toMatch(/GRPC_INSECURE must be true or false/);
      expect(problems.join("\n")).toMatch(/LOG_LEVEL must be one of: debug, info/);
      expect(problems.join("\n")).toMatch(/NAME is required/);
      expect(problems.join("\n")).toMatch(/LOKI_URL must be a URL/);
    }
  });

  it("names the variables a spec reads", () => {
    expect(configVariables(spec)).toEqual([
      "NATS_URL",
      "GRPC_PORT",
      "GRPC_INSECURE",
      "LOG_LEVEL",
      "NAME",
      "LOKI_URL",
    ]);
  });
});

describe("env.optionalFile", () => {
  const file = env.optionalFile("CA_FILE", "a CA");
  it("accepts a readable file and names what is wrong with anything else", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-file-"));
    try {
      const path = join(dir, "ca.crt");
      writeFileSync(path, "pem");
      expect(parseConfig({ file }, { CA_FILE: path })).toEqual({ file: path });
      expect(parseConfig({ file }, {})).toEqual({ file: undefined });
      expect(() => parseConfig({ file }, { CA_FILE: join(dir, "missing.crt") })).toThrow(
        /CA_FILE names .*missing\.crt, which does not exist or cannot be read/,
      );
      expect(() => parseConfig({ file }, { CA_FILE: dir })).toThrow(/which is not a file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
