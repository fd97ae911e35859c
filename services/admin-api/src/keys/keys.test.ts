import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("encryption-key routes", () => {
  it("rotates on demand (202), attributed to the admin, and reports the status without key ids", async () => {
    const h = createHarness();
    h.vault.seedSecret({ name: "ONE", hasValue: true });
    const rotated = await h.call("POST", "/keys/rotate", { token: h.adminToken });
    expect(rotated.status).toBe(202);
    expect(rotated.json).toEqual({ rotatedAt: expect.any(String), pendingRewrap: 1 });
    expect(h.vault.state.keys.rotations).toBe(1);
    expect(h.vault.actorOf(h.vault.callsOf("rotateKey")[0]?.admin)).toBe("alice");
    const status = await h.call("GET", "/keys", { token: h.adminToken });
    expect(status.status).toBe(200);
    expect(Object.keys(status.json).sort()).toEqual([
      "keyCount",
      "lastRotatedAt",
      "nextRotationAt",
      "pendingRewrap",
    ]);
  });

  it("refuses without an admin", async () => {
    const h = createHarness();
    expect((await h.call("POST", "/keys/rotate")).status).toBe(401);
    expect(h.vault.state.keys.rotations).toBe(0);
  });
});
