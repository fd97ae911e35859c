/**
 * One key rotation at a time, on the real processes: 30 concurrent `POST /keys/rotate` used to make 31 keys
 * (each an fsync of the key file and a rewrap pass over every value). Now the vault rotates once and
 * refuses the rest with 409 while that rotation's rewrap is pending; once it has finished, a rotation is
 * accepted again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newAdminToken } from "../support/tokens.ts";

let stack: Stack;
let http: ReturnType<typeof adminHttpClient>;
const adminToken = newAdminToken();
const credential = { token: adminToken };

beforeAll(async () => {
  stack = await createStack();
  // One value per rewrap transaction, so the rewrap of the seeded values outlasts the burst.
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken, REWRAP_BATCH_SIZE: "1" });
  http = adminHttpClient((await stack.startAdminApi()).url);
  for (let i = 0; i < 150; i++) {
    const put = await http.send("POST", "/secrets", {
      credential,
      body: { name: `FLOOD_${i}`, value: `v${i}` },
    });
    expect(put.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

const keyStatus = async () => (await http.send("GET", "/keys", { credential })).json;

describe("POST /keys/rotate", () => {
  it("rotates once for 30 concurrent requests, refusing the others with 409 while the rewrap is pending", async () => {
    const before = await keyStatus();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => http.send("POST", "/keys/rotate", { credential })),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(29);
    for (const answer of refused) {
      expect(answer.json.error.code).toBe("FAILED_PRECONDITION");
      expect(answer.json.error.message).toMatch(/A key rotation is in progress/);
    }
    const during = await keyStatus();
    expect(during.keyCount).toBe(before.keyCount + 1);

    // While values are still under the old key, a later request is refused too…
    if (during.pendingRewrap > 0) {
      expect((await http.send("POST", "/keys/rotate", { credential })).status).toBe(409);
    }
    // …and once the rewrap is done, a rotation is accepted again.
    await expect
      .poll(async () => (await keyStatus()).pendingRewrap, { timeout: 30_000, interval: 100 })
      .toBe(0);
    expect((await http.send("POST", "/keys/rotate", { credential })).status).toBe(202);
  }, 60_000);
});
