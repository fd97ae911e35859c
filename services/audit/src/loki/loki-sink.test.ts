import { AuditEvent } from "@secrets/proto/audit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LokiReceiver, startLokiReceiver } from "../../../../test/support/loki-receiver.ts";
import { freePort } from "../../../../test/support/nats-server.ts";
import { createLokiSink } from "./loki-sink.ts";

let loki: LokiReceiver;
beforeEach(async () => {
  loki = await startLokiReceiver();
});
afterEach(async () => {
  await loki.stop();
});

const event = (id: string, timestampMs = Date.now()) =>
  AuditEvent.fromPartial({ id, timestampMs, event: "secret.get", success: true, serviceName: "orders" });

function sink(extra: { gzip?: boolean; tenant?: string; username?: string; password?: string } = {}) {
  return createLokiSink({
    connection: {
      url: loki.url,
      timeoutMs: 2_000,
      tenant: extra.tenant,
      username: extra.username,
      password: extra.password,
    },
    environment: "test",
    gzip: extra.gzip ?? true,
  });
}

describe("Loki sink", () => {
  it("pushes gzip-compressed JSON with the tenant and basic auth, accepted on 2xx", async () => {
    const outcome = await sink({ tenant: "team-a", username: "u", password: "p" }).write([
      event("e1"),
      event("e2"),
    ]);
    expect(outcome).toEqual({ status: "accepted" });
    expect(loki.pushes[0]).toMatchObject({
      status: 204,
      contentType: "application/json",
      contentEncoding: "gzip",
      tenant: "team-a",
      authorization: `Basic ${btoa("u:p")}`,
      entries: 2,
    });
    expect(loki.entries().map((e) => JSON.parse(e.line).event_id)).toEqual(["e1", "e2"]);
    expect(loki.entries()[0]?.labels).toEqual({
      service: "secrets-service",
      env: "test",
      event: "secret.get",
    });
  });

  it("pushes plain JSON when gzip is off", async () => {
    await sink({ gzip: false }).write([event("e1")]);
    expect(loki.pushes[0]).toMatchObject({ status: 204, contentEncoding: "" });
  });

  it("asks for a retry on 5xx, 429 (with Retry-After), a configuration 401, and an unreachable Loki", async () => {
    loki.failNextPushes(1, 503);
    expect(await sink().write([event("e1")])).toMatchObject({
      status: "retry",
      reason: expect.stringMatching(/503/),
    });
    loki.failNextPushes(1, 429, 7);
    expect(await sink().write([event("e1")])).toMatchObject({ status: "retry", retryAfterMs: 7_000 });
    loki.failNextPushes(1, 401);
    expect(await sink().write([event("e1")])).toMatchObject({ status: "retry" });
    const unreachable = createLokiSink({
      connection: { url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000 },
      environment: "test",
      gzip: false,
    });
    expect(await unreachable.write([event("e1")])).toMatchObject({ status: "retry" });
  });

  it("reports a 400 as refused, with Loki's message", async () => {
    const old = Date.now() - 8 * 24 * 60 * 60 * 1000;
    const outcome = await sink().write([event("old", old), event("fine")]);
    expect(outcome).toMatchObject({ status: "refused", reason: expect.stringMatching(/400.*too old/s) });
    expect(loki.entries().map((e) => JSON.parse(e.line).event_id)).toEqual(["fine"]);
  });
});
