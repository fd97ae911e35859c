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
