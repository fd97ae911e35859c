/**
 * Fresh tokens in the shapes the services accept: 32 random bytes, base64url (43 characters).
 */

/** A service token, as an SDK generates one before registering it. */
export function newServiceToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** An admin token: `ssadm_` and a random part, as `bun run admin:token` prints one. */
export function newAdminToken(): string {
  return `ssadm_${newServiceToken()}`;
}

/**
 * The admin every test vault starts with (its bootstrap token: `stack.startVault` and the in-process
 * harness install it), for tests that act as an admin on the bus. One per test process.
 */
export const testAdmin = { name: "test-admin", token: newAdminToken() } as const;
