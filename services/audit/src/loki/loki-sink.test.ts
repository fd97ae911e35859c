import { AuditEvent } from "@secrets/proto/audit";
import { type LokiReceiver, startLokiReceiver } from "@secrets/test/support/loki-receiver";
import { freePort } from "@secrets/test/support/nats-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
    // (Loki 3 adds service_name from service.)
    expect(loki.entries()[0]?.labels).toEqual({
      service: "secrets-service",
      env: "test",
      event: "secret.get",
      service_name: "secrets-service",
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

  it("reports a 400 as refused, with Loki's message, and pushes nothing after the refused part", async () => {
    const old = Date.now() - 8 * 24 * 60 * 60 * 1000;
    const outcome = await sink().write([event("old", old), event("fine")]);
    expect(outcome).toMatchObject({ status: "refused", reason: expect.stringMatching(/400.*too old/s) });
    expect(loki.entries()).toEqual([]);
    expect(await sink().write([event("fine")])).toEqual({ status: "accepted" });
  });

  it("pushes one stream per request, so a refusal of an earlier stream is seen", async () => {
    const now = Date.now();
    const named = (id: string, name: string, timestampMs: number) =>
      AuditEvent.fromPartial({ id, timestampMs, event: name, serviceName: "orders" });
    expect(await sink().write([named("a1", "secret.get", now)])).toEqual({ status: "accepted" });
    // Together in one request, Loki would answer 204 for this: the last stream (token.approve) is fine.
    const outcome = await sink().write([
      named("a0", "secret.get", now - 2 * 60 * 60 * 1000),
      named("t1", "token.approve", now),
    ]);
    expect(outcome).toMatchObject({ status: "refused", reason: expect.stringMatching(/too far behind/) });
    expect(loki.pushes.map((push) => push.streams)).toEqual([1, 1]);
  });

  it("accepts only 204 and 200: any other answer is retried", async () => {
    const answering = (status: number) =>
      createLokiSink({
        connection: {
          url: loki.url,
          timeoutMs: 1_000,
          fetch: (async () =>
            new Response(status === 204 ? null : "", { status })) as unknown as typeof fetch,
        },
        environment: "test",
        gzip: false,
      }).write([event("e1")]);
    expect(await answering(204)).toEqual({ status: "accepted" });
    expect(await answering(200)).toEqual({ status: "accepted" });
    expect(await answering(202)).toMatchObject({ status: "retry" });
    expect(await answering(207)).toMatchObject({ status: "retry" });
    expect(await answering(500)).toMatchObject({ status: "retry", mayBeTooLarge: true });
    expect(await answering(401)).toMatchObject({ status: "retry", mayBeTooLarge: false });
  });
});
