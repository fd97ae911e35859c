import { describe, expect, it } from "vitest";
import { createLogger, type LogLevel } from "./index.ts";

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: "vault", level, write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("logger", () => {
  it("writes JSON lines at or above the level", () => {
    const { logger, lines } = capture("info");
    logger.debug("hidden");
    logger.info("started", { port: 1 });
    logger.error("failed", { cause: new Error("boom") });
    expect(lines.map((line) => line.msg)).toEqual(["started", "failed"]);
    expect(lines[0]).toMatchObject({ level: "info", service: "vault", port: 1 });
    expect(lines[1]).toMatchObject({ cause: { name: "Error", message: "boom" } });
  });

  it("describes a query error by its cause, never by its parameters", () => {
    const { logger, lines } = capture("info");
    const driverError = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    const queryError = Object.assign(new Error("Failed query: select ... params: c3VwZXJzZWNyZXQ="), {
      name: "DrizzleQueryError",
      params: ["c3VwZXJzZWNyZXQ="],
      cause: driverError,
    });
    logger.error("query failed", { error: queryError });
    expect(JSON.stringify(lines)).not.toContain("c3VwZXJzZWNyZXQ=");
    expect(lines[0]).toMatchObject({
      error: { name: "DrizzleQueryError", cause: { message: "connection refused", code: "ECONNREFUSED" } },
    });
  });

  it("binds child fields and redacts credential-like keys", () => {
    const { logger, lines } = capture("debug");
    logger.child({ requestId: "r1" }).info("call", { token: "abc", value: "s3cret", name: "DB_URL" });
    expect(lines[0]).toMatchObject({
      requestId: "r1",
      token: "[redacted]",
      value: "[redacted]",
      name: "DB_URL",
    });
    expect(JSON.stringify(lines)).not.toContain("s3cret");
  });
});
