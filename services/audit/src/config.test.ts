import { ConfigError, configVariables } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { auditConfigSpec, parseAuditConfig } from "./config.ts";

describe("audit configuration", () => {
  it("defaults to stdout without LOKI_URL, and to loki with it", () => {
    const plain = parseAuditConfig({ SECRETS_DATA_DIR: "/data" });
    expect(plain).toMatchObject({
      sink: "stdout",
      environment: "production",
      consumerName: "audit-shipper",
      batchMax: 1_000,
      batchWaitMs: 1_000,
      filePath: "/data/audit.jsonl",
      parkFile: "/data/audit-parked.jsonl",
      leaseTtlMs: 15_000,
      ackWaitMs: 10_000,
    });
    expect(Object.isFrozen(plain)).toBe(true);
    expect(parseAuditConfig({ LOKI_URL: "http://loki:3100" }).sink).toBe("loki");
    expect(parseAuditConfig({ LOKI_URL: "http://loki:3100", AUDIT_SINK: "file" }).sink).toBe("file");
  });

  it("lists every problem, including those across variables", () => {
    const attempt = () =>
      parseAuditConfig({
        AUDIT_SINK: "loki",
        LOKI_USERNAME: "u",
        AUDIT_ACK_WAIT_MS: "14000",
        AUDIT_RETRY_BASE_MS: "40000",
      });
    expect(attempt).toThrow(ConfigError);
    const problems = (() => {
      try {
        attempt();
        return [];
      } catch (error) {
        return [...(error as ConfigError).problems];
      }
    })();
    expect(problems).toEqual([
      "AUDIT_SINK=loki needs LOKI_URL",
      "LOKI_USERNAME and LOKI_PASSWORD must be set together",
      "AUDIT_ACK_WAIT_MS must be at most two thirds of AUDIT_LEASE_TTL_MS",
      "AUDIT_RETRY_BASE_MS must not exceed AUDIT_RETRY_MAX_MS",
    ]);
    expect(() => parseAuditConfig({ AUDIT_SINK: "kafka", AUDIT_BATCH_WAIT_MS: "10" })).toThrow(
      /AUDIT_SINK must be one of: loki, file, stdout[\s\S]*AUDIT_BATCH_WAIT_MS must be at least 1000/,
    );
  });

  it("names the variables it reads", () => {
    expect(configVariables(auditConfigSpec)).toEqual(
      expect.arrayContaining(["LOKI_URL", "AUDIT_SINK", "AUDIT_FILE_PATH", "AUDIT_PARK_FILE", "AUDIT_ENV"]),
    );
  });
});
