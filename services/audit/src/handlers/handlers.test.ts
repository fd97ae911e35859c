import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditOperations, ErrorCode, MemoryBus, request } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AuditEvent, AuditQueryRequest } from "@secrets/proto/audit";
import { uniqueNamespace } from "@secrets/test/support/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { createFileQueryBackend } from "../query/file-query-backend.ts";
import { createFileSink } from "../sinks/file-sink.ts";
import { serveAuditQueries } from "./query-handler.ts";
import { serveAuditStatus } from "./status-handler.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function newBus() {
  const bus = new MemoryBus({ namespace: uniqueNamespace(), logger: silentLogger });
  cleanups.push(() => bus.close());
  return {
    bus,
    query: (fields: Partial<AuditQueryRequest>) =>
      request(bus, auditOperations.query, AuditQueryRequest.fromPartial(fields), { timeoutMs: 2_000 }),
  };
}

describe("audit operations on the bus", () => {
  it("answers queries newest first from the backend", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-handlers-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "audit.jsonl");
    const now = Date.now();
    await createFileSink(path).write([
      AuditEvent.fromPartial({
        id: "a",
        timestampMs: now - 2_000,
        event: "secret.get",
        serviceName: "orders",
      }),
      AuditEvent.fromPartial({
        id: "b",
        timestampMs: now - 1_000,
        event: "secret.get",
        serviceName: "billing",
      }),
      AuditEvent.fromPartial({ id: "c", timestampMs: now - 500, event: "secret.get", serviceName: "orders" }),
    ]);
    const { bus, query } = newBus();
    serveAuditQueries(bus, { backend: createFileQueryBackend(path), logger: silentLogger });
    const reply = await query({ serviceName: "orders" });
    expect(reply.events.map((e) => e.id)).toEqual(["c", "a"]);
    await expect(query({ limit: 5_000 })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });

  it("answers FAILED_PRECONDITION when events go nowhere queryable", async () => {
    const { bus, query } = newBus();
    serveAuditQueries(bus, { backend: undefined, logger: silentLogger });
    await expect(query({})).rejects.toMatchObject({ code: ErrorCode.FAILED_PRECONDITION });
  });

  it("answers status with the shipper's figures", async () => {
    const { bus } = newBus();
    const figures = {
      pending: 4,
      inFlight: 2,
      lastSuccessMs: 7,
      consecutiveFailures: 1,
      parked: 0,
      active: true,
      sink: "loki",
    };
    serveAuditStatus(bus, { status: async () => figures });
    expect(await request(bus, auditOperations.status, {}, { timeoutMs: 1_000 })).toEqual(figures);
  });
});
