/**
 * A fake vault on a MemoryBus for the admin API's tests. Every admin operation received is recorded in
 * `calls`; `handlers` can be replaced per test; `state` holds what the vault would store.
 */
import { createHash, randomBytes } from "node:crypto";
import { adminOperations, type Bus, type Operation, serve, vaultQueue } from "@secrets/bus";
import type { AdminContext } from "@secrets/proto/admin";
import { generateSealingKeyPair } from "@secrets/sealing";
import {
  emptyVaultState,
  type FakeHandlers,
  fakeHandlers,
  type Ops,
  resolveActor,
} from "./fake-vault-handlers.ts";
import { accessRequestRecord, secretRecord, serviceTokenRecord } from "./fake-vault-records.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export function createFakeVault(options: { now?: () => number; sessionTtlMs?: number } = {}) {
  const state = emptyVaultState();
  const now = options.now ?? Date.now;
  const handlers = fakeHandlers(state, {
    now,
    sessionTtlMs: options.sessionTtlMs ?? 12 * 3_600_000,
  });
  /** Every admin operation received: its name and decoded request. */
  const calls: { operation: keyof Ops; request: unknown }[] = [];

  function serveOne<K extends keyof Ops>(bus: Bus, name: K) {
    const operation = adminOperations[name] as unknown as Operation<unknown, unknown>;
    return serve(bus, operation, { queue: vaultQueue }, async (request) => {
      calls.push({ operation: name, request });
      return (handlers[name] as (request: unknown) => Promise<unknown>)(request);
    });
  }

  return {
    state,
    handlers,
    calls,
    /** Serves every admin operation on `bus` in the vault's queue group. */
    serve: (bus: Bus) => (Object.keys(adminOperations) as (keyof Ops)[]).map((name) => serveOne(bus, name)),
    /** Requests received for one operation. */
    callsOf: <K extends keyof Ops>(name: K) =>
      calls.filter((c) => c.operation === name).map((c) => c.request as Parameters<FakeHandlers[K]>[0]),
    /** The admin an operation's credential belongs to, as the vault resolves it (throws when none). */
    actorOf: (admin: AdminContext | undefined) => resolveActor(state, now, admin),
    /** A new admin token the fake accepts. */
    addAdmin(name: string): string {
      const token = `ssadm_${randomBytes(32).toString("base64url")}`;
      state.adminTokens.set(sha256(token), name);
      return token;
    },
    revokeAdmin(token: string): void {
      state.adminTokens.delete(sha256(token));
    },
    rotateSealingKey(): void {
      state.sealingKey = generateSealingKeyPair();
    },
    seedSecret(fields: Parameters<typeof secretRecord>[0]) {
      const secret = secretRecord(fields);
      state.secrets.set(secret.id, secret);
      return secret;
    },
    seedAccessRequest(fields: Parameters<typeof accessRequestRecord>[0]) {
      const request = accessRequestRecord(fields);
      state.accessRequests.set(request.id, request);
      return request;
    },
    seedServiceToken(fields: Parameters<typeof serviceTokenRecord>[0]) {
      const token = serviceTokenRecord(fields);
      state.serviceTokens.set(token.id, token);
      return token;
    },
  };
}

export type FakeVault = ReturnType<typeof createFakeVault>;
