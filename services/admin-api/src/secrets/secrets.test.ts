import { createHash } from "node:crypto";
import { BusError, ErrorCode, Reason } from "@secrets/bus";
import { openSealedValue } from "@secrets/sealing";
import { beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/harness.ts";

let h: Harness;
beforeEach(() => {
  h = createHarness();
});

const includesBytes = (payload: Uint8Array, text: string) => Buffer.from(payload).includes(Buffer.from(text));

describe("GET /secrets", () => {
  it("lists secrets without values, with ISO timestamps, attributed to the admin", async () => {
    h.vault.seedSecret({
      name: "STRIPE_KEY",
      description: "Stripe",
      hasValue: true,
      requestedBy: ["billing"],
      version: 3,
    });
    const res = await h.call("GET", "/secrets?q=stripe&missing=false&limit=5", {
      token: h.adminToken,
      headers: { "user-agent": "dashboard/1" },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      secrets: [
        {
          id: expect.any(String),
          name: "STRIPE_KEY",
          description: "Stripe",
          hasValue: true,
          isActive: true,
          isStub: false,
          createdAt: "2025-01-17T10:30:00.000Z",
          updatedAt: "2025-01-17T10:30:00.000Z",
          createdBy: "seed",
          requestedBy: ["billing"],
          version: 3,
        },
      ],
      nextCursor: null,
    });
    const [sent] = h.vault.callsOf("listSecrets");
    expect(sent).toMatchObject({ query: "stripe", missingOnly: false, limit: 5, cursor: "" });
    expect(h.vault.actorOf(sent?.admin)).toBe("alice");
    expect(sent?.admin).toEqual({
      credential: { tokenHash: createHash("sha256").update(h.adminToken).digest("hex") },
      requestId: res.headers["x-request-id"],
      ipAddress: "203.0.113.7",
      userAgent: "dashboard/1",
    });
  });

  it("passes the missing filter, the cursor and the next page's cursor", async () => {
    for (const name of ["A_ONE", "A_TWO", "A_THREE"]) h.vault.seedSecret({ name, isStub: true });
    const res = await h.call("GET", "/secrets?missing=true&limit=2&cursor=abc", { token: h.adminToken });
    expect(res.json.secrets).toHaveLength(2);
    expect(res.json.nextCursor).toBe("next-page");
    expect(h.vault.callsOf("listSecrets")[0]).toMatchObject({ missingOnly: true, limit: 2, cursor: "abc" });
  });

  it.each(["0", "1001", "abc", "1.5"])("refuses limit=%s with 422 naming the field", async (limit) => {
    const res = await h.call("GET", `/secrets?limit=${limit}`, { token: h.adminToken });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({
      code: "INVALID_ARGUMENT",
      requestId: res.headers["x-request-id"],
    });
    expect(res.json.error.fields.map((f: { field: string }) => f.field)).toEqual(["limit"]);
  });
});

describe("POST /secrets", () => {
  it("creates (201) with the value sealed on the bus, then updates (200) keeping the value", async () => {
    const value = `sk_live_${crypto.randomUUID()}`;
    const created = await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "STRIPE_KEY", description: "Stripe API key", value },
    });
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatchObject({ name: "STRIPE_KEY", hasValue: true, createdBy: "alice" });
    expect(created.json.secret).not.toHaveProperty("value");

    const [put] = h.vault.callsOf("putSecret");
    expect(put?.value?.keyId).toBe(h.vault.state.sealingKey.keyId);
    expect(openSealedValue(h.vault.state.sealingKey, put?.value ?? ({} as never), "STRIPE_KEY")).toBe(value);
    expect(() => openSealedValue(h.vault.state.sealingKey, put?.value ?? ({} as never), "OTHER")).toThrow();
    expect(h.vault.state.values.get("STRIPE_KEY")).toBe(value);

    const updated = await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "STRIPE_KEY", description: "Rotated yearly" },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.secret).toMatchObject({ description: "Rotated yearly", hasValue: true });
    expect(h.vault.callsOf("putSecret")[1]?.value).toBeUndefined();
    expect(h.vault.callsOf("sealingKey")).toHaveLength(1);

    expect(h.traffic.length).toBeGreaterThan(4);
    for (const payload of h.traffic) expect(includesBytes(payload, value)).toBe(false);
    for (const exchange of h.exchanges) expect(exchange.text).not.toContain(value);
  });

  it("accepts the largest value (64 KiB of newlines, twice that once JSON-escaped)", async () => {
    const value = "\n".repeat(64 * 1024);
    const res = await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "PEM", value } });
    expect(res.status).toBe(201);
    expect(h.vault.state.values.get("PEM")).toBe(value);
  });

  it("refetches the sealing key once when the vault no longer holds it, and reseals", async () => {
    await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "FIRST", value: "one" } });
    h.vault.rotateSealingKey();
    const res = await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "SECOND", value: "two" },
    });
    expect(res.status).toBe(201);
    expect(h.vault.state.values.get("SECOND")).toBe("two");
    expect(h.vault.callsOf("sealingKey")).toHaveLength(2);
    expect(h.vault.callsOf("putSecret")).toHaveLength(3);
  });

  it("retries only once when the vault keeps refusing the key", async () => {
    h.vault.handlers.putSecret = async () => {
      throw new BusError(
        ErrorCode.INVALID_ARGUMENT,
        "The value was sealed to a key this vault does not hold",
        {
          reason: Reason.SEALING_KEY_UNKNOWN,
        },
      );
    };
    const res = await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "X", value: "v" } });
    expect(res.status).toBe(422);
    expect(h.vault.callsOf("putSecret")).toHaveLength(2);
  });

  it("answers 422 listing every failing field, before anything reaches the vault", async () => {
    const res = await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "OK_NAME", description: "é".repeat(600), value: `a\u0000b` },
    });
    expect(res.status).toBe(422);
    expect(res.json.error.fields).toEqual([
      { field: "description", message: "must be at most 1024 bytes" },
      { field: "value", message: "must not contain NUL characters" },
    ]);
    expect(res.text).not.toContain("a\\u0000b");
    const tooBig = await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "OK_NAME", value: "é".repeat(40_000) },
    });
    expect(tooBig.json.error.fields).toEqual([
      { field: "value", message: "must be at most 65536 bytes of UTF-8" },
    ]);
    expect(h.vault.callsOf("putSecret")).toHaveLength(0);
  });

  it("names the expected type of a query parameter", async () => {
    const res = await h.call("GET", "/secrets?limit=ten&missing=maybe", { token: h.adminToken });
    expect(res.json.error.fields).toEqual([
      { field: "missing", message: "must be true or false" },
      { field: "limit", message: "must be an integer" },
    ]);
  });

  it("answers 422 from the schema for a bad or missing name, never quoting the value", async () => {
    const value = `secret-${crypto.randomUUID()}`;
    const bad = await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "lower", value } });
    expect(bad.status).toBe(422);
    expect(bad.json.error.fields.map((f: { field: string }) => f.field)).toEqual(["name"]);
    expect(bad.text).not.toContain(value);
    const missing = await h.call("POST", "/secrets", { token: h.adminToken, body: { value } });
    expect(missing.json.error.fields.map((f: { field: string }) => f.field)).toContain("name");
    for (const body of [[value], { name: "A", value: { value } }, { name: "A", value: [value] }]) {
      const wrongType = await h.call("POST", "/secrets", { token: h.adminToken, body });
      expect(wrongType.status).toBe(422);
      expect(wrongType.text).not.toContain(value);
    }
    expect(h.logLines.join("\n")).not.toContain(value);
  });

  it("maps the vault's CONFLICT to 409 with its message", async () => {
    h.vault.handlers.putSecret = async () => {
      throw new BusError(ErrorCode.CONFLICT, "Secret RACE was created concurrently; try again");
    };
    const res = await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "RACE" } });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({
      code: "CONFLICT",
      message: "Secret RACE was created concurrently; try again",
    });
  });
});

describe("DELETE /secrets/:id", () => {
  it("deletes (204, empty body) and answers 404 for an unknown id", async () => {
    const secret = h.vault.seedSecret({ name: "GONE" });
    const res = await h.call("DELETE", `/secrets/${secret.id}`, { token: h.adminToken });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    const [deleted] = h.vault.callsOf("deleteSecret");
    expect(deleted).toMatchObject({ id: secret.id });
    expect(h.vault.actorOf(deleted?.admin)).toBe("alice");
    const again = await h.call("DELETE", `/secrets/${secret.id}`, { token: h.adminToken });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe("NOT_FOUND");
  });
});
