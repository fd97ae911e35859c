import { ErrorCode } from "@secrets/bus";
import { AuditEvent } from "@secrets/proto/audit";
import { type LokiReceiver, LokiVersion, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditQuery } from "../query/audit-query.ts";
import { createLokiQueryBackend } from "./loki-query-backend.ts";
import { createLokiSink } from "./loki-sink.ts";

let loki: LokiReceiver;
const now = Date.now();
const secretId = "0194f1b2-7c3d-7a8b-9c0d-1e2f3a4b5c6d";

const events = [
  {
    id: "e1",
    timestampMs: now - 5_000,
    secretName: "DB_URL",
    secretId,
    serviceName: "orders",
    success: true,
  },
  { id: "e2", timestampMs: now - 4_000, secretName: "API_KEY", serviceName: "orders", success: false },
  {
    id: "e3",
    timestampMs: now - 3_000,
    secretName: "DB_URL",
    secretId,
    serviceName: "billing",
    success: true,
  },
  { id: "e4", timestampMs: now - 2_000, event: "token.register", serviceName: "orders", success: true },
].map((fields) =>
  AuditEvent.fromPartial({ event: "secret.get", level: "info", requestId: `r-${fields.id}`, ...fields }),
);

async function filledReceiver(version: LokiVersion) {
  loki = await startLokiReceiver({ version });
  const sink = createLokiSink({
    connection: { url: loki.url, timeoutMs: 2_000 },
    environment: "test",
    gzip: true,
  });
  expect(await sink.write(events)).toEqual({ status: "accepted" });
}

const backend = () =>
  createLokiQueryBackend({ connection: { url: loki.url, timeoutMs: 2_000 }, environment: "test" });
const query = (fields: Partial<AuditQuery>): AuditQuery => ({
  fromMs: now - 60_000,
  toMs: now,
  limit: 100,
  ...fields,
});
const ids = (found: AuditEvent[]) => found.map((e) => e.id);

describe.each([LokiVersion.v2_9, LokiVersion.v3_5])("Loki query backend on Loki %s", (version) => {
  beforeAll(() => filledReceiver(version));
  afterAll(() => loki.stop());

  it("returns every field of the events, newest first", async () => {
    const found = await backend().query(query({}));
    expect(ids(found)).toEqual(["e4", "e3", "e2", "e1"]);
    expect(found[3]).toEqual(events[0]);
  });

  it("filters by secret name or id, service, event and outcome", async () => {
    expect(ids(await backend().query(query({ secretName: "DB_URL" })))).toEqual(["e3", "e1"]);
    expect(ids(await backend().query(query({ secretId })))).toEqual(["e3", "e1"]);
    expect(ids(await backend().query(query({ serviceName: "orders" })))).toEqual(["e4", "e2", "e1"]);
    expect(ids(await backend().query(query({ event: "token.register" })))).toEqual(["e4"]);
    expect(ids(await backend().query(query({ success: false })))).toEqual(["e2"]);
    expect(ids(await backend().query(query({ limit: 2 })))).toEqual(["e4", "e3"]);
    expect(ids(await backend().query(query({ fromMs: now - 4_000, toMs: now - 3_000 })))).toEqual([
      "e3",
      "e2",
    ]);
  });

  it("answers UNAVAILABLE when Loki does not answer", async () => {
    const down = createLokiQueryBackend({
      connection: { url: "http://127.0.0.1:9", timeoutMs: 500 },
      environment: "test",
    });
    await expect(down.query(query({}))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });
});
