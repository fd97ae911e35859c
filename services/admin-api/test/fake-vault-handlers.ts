/**
 * The fake vault's admin operations over in-memory records, answering as the real vault does (codes,
 * reasons, transitions). Sealed values are opened with the fake's key pair and kept in `state.values`.
 */
import {
  type adminOperations,
  BusError,
  ErrorCode,
  invalidArgument,
  type Operation,
  Reason,
} from "@secrets/bus";
import {
  AccessStatus,
  type AdminContext,
  type PendingLimit,
  type SecretVersionRecord,
  ServiceTokenStatus,
} from "@secrets/proto/admin";
import { generateSealingKeyPair, openSealedValue, type SealingKeyPair } from "@secrets/sealing";
import { checkSecretName } from "@secrets/validation";
import { accessRequestRecord, secretRecord, type serviceTokenRecord } from "./fake-vault-records.ts";

export type Ops = typeof adminOperations;
type HandlerOf<O> = O extends Operation<infer Req, infer Rep> ? (request: Req) => Promise<Rep> : never;
export type FakeHandlers = { -readonly [K in keyof Ops]: HandlerOf<Ops[K]> };

export function emptyVaultState() {
  return {
    sealingKey: generateSealingKeyPair() as SealingKeyPair,
    /** Admin names by token hash. */
    adminTokens: new Map<string, string>(),
    sessions: new Map<string, { name: string; expiresAtMs: number }>(),
    /** The bootstrap admin's name while its token is active; "" once revoked. */
    bootstrapAdminName: "",
    secrets: new Map<string, ReturnType<typeof secretRecord>>(),
    /** Plaintext values as the vault received them, by secret name. */
    values: new Map<string, string>(),
    accessRequests: new Map<string, ReturnType<typeof accessRequestRecord>>(),
    serviceTokens: new Map<string, ReturnType<typeof serviceTokenRecord>>(),
    /** Kept versions by secret id, newest first. */
    versions: new Map<string, SecretVersionRecord[]>(),
    keys: { rotations: 0, lastRotatedAtMs: Date.UTC(2025, 0, 1) },
    /** What the list replies report as full queues. */
    pendingLimitsReached: { accessRequests: [] as PendingLimit[], serviceTokens: [] as PendingLimit[] },
  };
}

export type VaultState = ReturnType<typeof emptyVaultState>;

const unauthenticated = () => new BusError(ErrorCode.UNAUTHENTICATED, "The admin credentials are not valid");
const notFound = (what: string, id: string) =>
  new BusError(ErrorCode.NOT_FOUND, `No ${what} has the id "${id}"`);

/**
 * The admin an operation's credential belongs to, as the real vault resolves it (token and session hashes
 * from the fake's state; a JWT by its `sub`, unverified: the admin API verified it, and the real vault's
 * own check is tested in the vault).
 */
export function resolveActor(state: VaultState, now: () => number, admin: AdminContext | undefined): string {
  const credential = admin?.credential;
  const fromToken = credential?.tokenHash && state.adminTokens.get(credential.tokenHash);
  if (fromToken) return fromToken;
  const session = credential?.sessionHash ? state.sessions.get(credential.sessionHash) : undefined;
  if (session && session.expiresAtMs > now()) return session.name;
  if (credential?.oidcToken) {
    const payload = JSON.parse(Buffer.from(credential.oidcToken.split(".")[1] ?? "", "base64url").toString());
    if (typeof payload.sub === "string") return `oidc:${payload.sub}`;
  }
  throw unauthenticated();
}

export function fakeHandlers(
  state: VaultState,
  options: { now: () => number; sessionTtlMs: number },
): FakeHandlers {
  const { now } = options;
  const actorOf = (admin: AdminContext | undefined) => resolveActor(state, now, admin);
  const admin = (hash: string) => {
    const name = state.adminTokens.get(hash);
    if (!name) throw unauthenticated();
    return { adminId: `admin-${name}`, name };
  };

  const decideToken =
    (target: ServiceTokenStatus, allowed: ServiceTokenStatus[]) =>
    async (r: { admin?: AdminContext; id: string }) => {
      const token = state.serviceTokens.get(r.id);
      if (!token) throw notFound("service token", r.id);
      if (token.status !== target && !allowed.includes(token.status)) {
        throw new BusError(ErrorCode.FAILED_PRECONDITION, "A revoked token cannot be approved again");
      }
      Object.assign(token, { status: target, approvedBy: actorOf(r.admin), approvedAtMs: now() });
      return { serviceToken: token };
    };
  const decideAccess = (status: AccessStatus) => async (r: { admin?: AdminContext; id: string }) => {
    const request = state.accessRequests.get(r.id);
    if (!request) throw notFound("access request", r.id);
    Object.assign(request, { status, grantedBy: actorOf(r.admin), grantedAtMs: now() });
    return { accessRequest: request };
  };

  return {
    ping: async () => ({ nowMs: now() }),
    reportThrottled: async () => ({}),
    authenticate: async (r) => ({ admin: admin(r.tokenHash) }),
    createSession: async (r) => {
      const identity = admin(r.tokenHash);
      const expiresAtMs = now() + options.sessionTtlMs;
      state.sessions.set(r.sessionHash, { name: identity.name, expiresAtMs });
      return { admin: identity, expiresAtMs };
    },
    authenticateSession: async (r) => {
      const session = state.sessions.get(r.sessionHash);
      if (!session || session.expiresAtMs <= now()) throw unauthenticated();
      return {
        admin: { adminId: `admin-${session.name}`, name: session.name },
        expiresAtMs: session.expiresAtMs,
      };
    },
    adminPlaneStatus: async () => ({
      bootstrapTokenActive: state.bootstrapAdminName !== "",
      bootstrapAdminName: state.bootstrapAdminName,
    }),
    endSession: async (r) => {
      state.sessions.delete(r.sessionHash);
      return {};
    },
    sealingKey: async () => ({
      keyId: state.sealingKey.keyId,
      publicKey: Buffer.from(state.sealingKey.publicKey),
    }),
    listSecrets: async (r) => {
      actorOf(r.admin);
      const query = r.query.toLowerCase();
      const matching = [...state.secrets.values()]
        .filter((s) => !query || `${s.name} ${s.description}`.toLowerCase().includes(query))
        .filter((s) => !r.missingOnly || (s.isStub && !s.hasValue))
        .sort((a, b) => a.name.localeCompare(b.name));
      const limit = r.limit || 100;
      return { secrets: matching.slice(0, limit), nextCursor: matching.length > limit ? "next-page" : "" };
    },
    putSecret: async (r) => {
      const actor = actorOf(r.admin);
      if (checkSecretName(r.name, "name").length > 0) throw invalidArgument(checkSecretName(r.name, "name"));
      if (r.value && r.value.keyId !== state.sealingKey.keyId) {
        throw new BusError(
          ErrorCode.INVALID_ARGUMENT,
          "The value was sealed to a key this vault does not hold",
          {
            reason: Reason.SEALING_KEY_UNKNOWN,
          },
        );
      }
      const existing = [...state.secrets.values()].find((s) => s.name === r.name);
      if (r.expectedVersion !== undefined && r.expectedVersion !== (existing?.version ?? 0)) {
        throw new BusError(ErrorCode.CONFLICT, `Secret ${r.name} changed`, {
          reason: Reason.VERSION_CONFLICT,
        });
      }
      if (r.value) state.values.set(r.name, openSealedValue(state.sealingKey, r.value, r.name));
      const secret = existing ?? secretRecord({ name: r.name, createdBy: actor, createdAtMs: now() });
      Object.assign(secret, {
        ...(r.description === undefined ? {} : { description: r.description }),
        hasValue: secret.hasValue || r.value !== undefined,
        version: secret.version + (r.value === undefined ? 0 : 1),
        updatedAtMs: now(),
      });
      if (r.value) {
        const kept = state.versions.get(secret.id) ?? [];
        state.versions.set(secret.id, [
          { version: secret.version, createdAtMs: now(), createdBy: actor, restoredFrom: 0 },
          ...kept,
        ]);
      }
      state.secrets.set(secret.id, secret);
      return { secret, created: !existing };
    },
    rotateKey: async (r) => {
      actorOf(r.admin);
      state.keys.rotations += 1;
      state.keys.lastRotatedAtMs = now();
      return { rotatedAtMs: state.keys.lastRotatedAtMs, pendingRewrap: state.secrets.size };
    },
    keyStatus: async (r) => {
      actorOf(r.admin);
      return {
        lastRotatedAtMs: state.keys.lastRotatedAtMs,
        nextRotationAtMs: state.keys.lastRotatedAtMs + 30 * 86_400_000,
        pendingRewrap: 0,
        keyCount: 1,
      };
    },
    listSecretVersions: async (r) => {
      actorOf(r.admin);
      const secret = state.secrets.get(r.id);
      if (!secret) throw notFound("secret", r.id);
      return { versions: state.versions.get(r.id) ?? [], currentVersion: secret.version };
    },
    rollbackSecret: async (r) => {
      const actor = actorOf(r.admin);
      const secret = state.secrets.get(r.id);
      if (!secret) throw notFound("secret", r.id);
      if (r.expectedVersion !== undefined && r.expectedVersion !== secret.version) {
        throw new BusError(ErrorCode.CONFLICT, `Secret ${secret.name} changed`, {
          reason: Reason.VERSION_CONFLICT,
        });
      }
      const kept = state.versions.get(r.id) ?? [];
      if (!kept.some((v) => v.version === r.version)) {
        throw new BusError(ErrorCode.NOT_FOUND, `Secret ${secret.name} keeps no version ${r.version}`);
      }
      secret.version += 1;
      state.versions.set(r.id, [
        { version: secret.version, createdAtMs: now(), createdBy: actor, restoredFrom: r.version },
        ...kept,
      ]);
      return { secret };
    },
    deleteSecret: async (r) => {
      actorOf(r.admin);
      if (!state.secrets.delete(r.id)) throw notFound("secret", r.id);
      return {};
    },
    listAccessRequests: async (r) => {
      actorOf(r.admin);
      const all = [...state.accessRequests.values()];
      const accessRequests = all.filter(
        (a) => r.status === AccessStatus.UNSPECIFIED || a.status === r.status,
      );
      return {
        accessRequests: accessRequests.slice(0, r.limit || 100),
        nextCursor: "",
        pendingLimitsReached: state.pendingLimitsReached.accessRequests,
      };
    },
    approveAccessRequest: decideAccess(AccessStatus.GRANTED),
    denyAccessRequest: decideAccess(AccessStatus.DENIED),
    grantAccess: async (r) => {
      const secret = [...state.secrets.values()].find((s) => s.name === r.secretName);
      if (!secret) throw new BusError(ErrorCode.NOT_FOUND, `No secret is named ${r.secretName}`);
      const existing = [...state.accessRequests.values()].find(
        (a) => a.secretId === secret.id && a.serviceName === r.serviceName,
      );
      const request =
        existing ??
        accessRequestRecord({ secretId: secret.id, secretName: secret.name, serviceName: r.serviceName });
      state.accessRequests.set(request.id, request);
      const { accessRequest } = await decideAccess(AccessStatus.GRANTED)({ admin: r.admin, id: request.id });
      return { accessRequest, created: !existing };
    },
    listServiceTokens: async (r) => {
      actorOf(r.admin);
      const all = [...state.serviceTokens.values()];
      const serviceTokens = all.filter(
        (s) => r.status === ServiceTokenStatus.UNSPECIFIED || s.status === r.status,
      );
      return {
        serviceTokens: serviceTokens.slice(0, r.limit || 100),
        nextCursor: "",
        pendingLimitsReached: state.pendingLimitsReached.serviceTokens,
      };
    },
    approveServiceToken: decideToken(ServiceTokenStatus.APPROVED, [
      ServiceTokenStatus.PENDING,
      ServiceTokenStatus.DENIED,
    ]),
    denyServiceToken: decideToken(ServiceTokenStatus.DENIED, [ServiceTokenStatus.PENDING]),
    revokeServiceToken: decideToken(ServiceTokenStatus.REVOKED, [
      ServiceTokenStatus.PENDING,
      ServiceTokenStatus.APPROVED,
      ServiceTokenStatus.DENIED,
    ]),
  };
}
