import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("secret versions over HTTP", () => {
  it("lists versions newest first, rolls back, and refuses a stale check-and-set with 409", async () => {
    const h = createHarness();
    const token = h.adminToken;
    const first = await h.call("POST", "/secrets", { token, body: { name: "ROTATING", value: "one" } });
    expect(first.json.secret.version).toBe(1);
    const id = first.json.secret.id;
    const second = await h.call("POST", "/secrets", {
      token,
      body: { name: "ROTATING", value: "two", expectedVersion: 1 },
    });
    expect(second.status).toBe(200);
    expect(second.json.secret.version).toBe(2);

    const stale = await h.call("POST", "/secrets", {
      token,
      body: { name: "ROTATING", value: "three", expectedVersion: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("CONFLICT");
    expect(h.vault.state.values.get("ROTATING")).toBe("two");

    const versions = await h.call("GET", `/secrets/${id}/versions`, { token });
    expect(
      versions.json.versions.map((v: { version: number; current: boolean }) => [v.version, v.current]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
    expect(versions.json.versions[0]).toMatchObject({ createdBy: "alice", restoredFrom: null });

    const rolled = await h.call("POST", `/secrets/${id}/rollback`, {
      token,
      body: { version: 1, expectedVersion: 2 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.json.secret.version).toBe(3);
    const after = await h.call("GET", `/secrets/${id}/versions`, { token });
    expect(after.json.versions[0]).toMatchObject({ version: 3, restoredFrom: 1, current: true });

    expect(
      (await h.call("POST", `/secrets/${id}/rollback`, { token, body: { version: 1, expectedVersion: 2 } }))
        .status,
    ).toBe(409);
    expect((await h.call("POST", `/secrets/${id}/rollback`, { token, body: { version: 42 } })).status).toBe(
      404,
    );
    expect((await h.call("POST", `/secrets/${id}/rollback`, { token, body: { version: 0 } })).status).toBe(
      422,
    );
    for (const exchange of h.exchanges) expect(exchange.text).not.toMatch(/"one"|"two"|"three"/);
  });

  it("passes expectedVersion to the vault only when given", async () => {
    const h = createHarness();
    await h.call("POST", "/secrets", { token: h.adminToken, body: { name: "PLAIN", value: "x" } });
    await h.call("POST", "/secrets", {
      token: h.adminToken,
      body: { name: "PLAIN", value: "y", expectedVersion: 1 },
    });
    expect(h.vault.callsOf("putSecret").map((r) => r.expectedVersion)).toEqual([undefined, 1]);
  });
});

describe("version numbers beyond int32", () => {
  it("are refused with 422 naming the field, not a 500 (1e308 is an integer to JSON)", async () => {
    const h = createHarness();
    const token = h.adminToken;
    const id = (await h.call("POST", "/secrets", { token, body: { name: "BIG", value: "x" } })).json.secret
      .id;
    for (const [path, body, field] of [
      [`/secrets/${id}/rollback`, '{"version":1e308}', "version"],
      [`/secrets/${id}/rollback`, '{"version":1,"expectedVersion":2147483648}', "expectedVersion"],
      ["/secrets", '{"name":"BIG","value":"y","expectedVersion":1e300}', "expectedVersion"],
    ] as const) {
      const refused = await h.call("POST", path, {
        token,
        rawBody: body,
        headers: { "content-type": "application/json" },
      });
      expect(refused.status).toBe(422);
      expect(refused.json.error.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });
});
