import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { CallerContext } from "@secrets/proto/vault";
import { checkGetSecret, checkGetSecrets, stripControlAndFormat } from "@secrets/validation";
import type { AccessRequestsDal } from "../access-requests/access-requests-dal.ts";
import {
  type AuditFacts,
  type AuditRecorder,
  auditUnavailable,
  refusalReason,
} from "../audit/audit-recorder.ts";
import type { CacheChange } from "../cache/cache-invalidation.ts";
import { type PendingLimitHit, PendingLimitReachedError } from "../db/pending-limits.ts";
import type { AccessRequest, Secret } from "../db/schema.ts";
import { toBusError } from "../errors.ts";
import { DecryptionError, DecryptionFailure, type Keyring } from "../keyring/index.ts";
import type { AuthenticatedService, TokenAuthenticator } from "../service-tokens/token-authenticator.ts";
import type { UsageRecorder } from "../usage/usage-recorder.ts";
import { describeNames } from "./audit-secret-names.ts";
import type { SecretsDal } from "./secrets-dal.ts";

export interface GetSecretInput {
  secretName: string;
  description: string;
  token: string;
  caller: CallerContext;
}

export interface GetSecretsInput {
  secrets: readonly { secretName: string; description: string }[];
  token: string;
  caller: CallerContext;
}

/** One secret of a GetSecrets reply: its value, or the error GetSecret would have thrown. */
export type SecretOutcome = { secretName: string } & ({ value: string } | { error: BusError });

export interface GetSecretDeps {
  authenticate: TokenAuthenticator;
  /** `findByName` may answer from a cache; `refreshByName` always reads the database. */
  secrets: Pick<SecretsDal, "findByName" | "createStubWithAccessRequest"> & {
    refreshByName(name: string): Promise<Secret | undefined>;
  };
  /** `find` may answer from a cache. */
  accessRequests: Pick<AccessRequestsDal, "find" | "requestAccess" | "setRequestedDescription">;
  keyring: Pick<Keyring, "decrypt" | "reload">;
  recorder: Pick<AuditRecorder, "record">;
  usage: Pick<UsageRecorder, "recordRead">;
  /** Pending access requests (each new name a stub) one service may have before new ones are refused. */
  pendingRequestsPerService: number;
  /** Tells the other vault replicas about a row this path changed (a requested description kept). */
  invalidate: (change: CacheChange) => void;
  /** Loads a batch's secrets and access requests in a few queries before each is decided (a cache). */
  warm: (secretNames: readonly string[], serviceName: string) => Promise<void>;
  logger: Logger;
}

type Decision =
  | { ok: true; value: string; facts: Partial<AuditFacts>; tokenId: string; accessRequestId: string }
  | { ok: false; error: BusError; facts: Partial<AuditFacts> };

const refuse = (error: BusError, facts: Partial<AuditFacts>): Decision => ({ ok: false, error, facts });

/**
 * Bytes of values one GetSecrets reply carries at most, well under NATS's default 1 MiB message: a value
 * beyond it is refused (RESOURCE_EXHAUSTED) and read with GetSecret instead, as the SDK does.
 */
export const maxBatchValueBytes = 512 * 1024;

/** The refusal of a new name or request when the service's queue is full: which limit, how it clears. */
function requestLimitRefusal(hit: PendingLimitHit, secretName: string): BusError {
  const message =
    `Service "${hit.key}" already has ${hit.pending} access requests waiting for an admin, its limit of ` +
    `${hit.limit} (MAX_PENDING_REQUESTS_PER_SERVICE), so ${secretName} was not recorded: an admin must grant ` +
    "or deny some (dashboard: Pending approvals) before further secrets are requested";
  return new BusError(ErrorCode.RESOURCE_EXHAUSTED, message, { reason: Reason.PENDING_LIMIT_REACHED });
}

/** Values beyond the reply's budget become refusals, before anything is audited. */
function withinBudget(decisions: Decision[], names: readonly string[]): Decision[] {
  let bytes = 0;
  return decisions.map((decision, index) => {
    if (!decision.ok) return decision;
    bytes += Buffer.byteLength(decision.value);
    if (bytes <= maxBatchValueBytes) return decision;
    const message = `Secret ${names[index]} does not fit in one GetSecrets reply with the others; read it with GetSecret`;
    return refuse(new BusError(ErrorCode.RESOURCE_EXHAUSTED, message), decision.facts);
  });
}

/**
 * GetSecret, in the specification's order: authenticate the token, find the secret (creating a stub when
 * it is missing), check the service's access request, then decrypt. Every outcome is audited; a value is
 * returned only once its audit event is stored (fail-closed). GetSecrets does the same for several secrets
 * with one token check: one decision and one audit event per secret, every event stored before any value
 * is returned.
 */
export function createGetSecretService(deps: GetSecretDeps) {
  const decoder = new TextDecoder();

  /**
   * A service never changes an existing secret's description (an admin's words, or the stub's first
   * one): what it sends, when it differs, is kept on its access request for the admin to see.
   */
  async function keepRequestedDescription(
    secret: Secret,
    access: AccessRequest,
    description: string,
  ): Promise<void> {
    if (description === "" || description === secret.description) return;
    if (access.requestedDescription === description) return;
    await deps.accessRequests.setRequestedDescription(access.id, description);
    deps.invalidate({ accessRequests: [{ secretId: access.secretId, serviceName: access.serviceName }] });
  }

  /**
   * Decrypts. A key another vault just rotated in is read from the shared key file, once; an envelope
   * under a key that left the key file comes from a cached row that a rewrap replaced: read it again.
   */
  async function decryptCurrent(secret: Secret & { valueEncrypted: Uint8Array }): Promise<Uint8Array> {
    const unknownKey = (error: unknown) =>
      error instanceof DecryptionError && error.reason === DecryptionFailure.unknownKey;
    try {
      return deps.keyring.decrypt(secret.valueEncrypted, { secretId: secret.id, version: secret.version });
    } catch (error) {
      if (!unknownKey(error)) throw error;
    }
    await deps.keyring.reload();
    try {
      return deps.keyring.decrypt(secret.valueEncrypted, { secretId: secret.id, version: secret.version });
    } catch (error) {
      if (!unknownKey(error)) throw error;
      const fresh = await deps.secrets.refreshByName(secret.name);
      if (!fresh?.valueEncrypted || fresh.id !== secret.id) throw error;
      return deps.keyring.decrypt(fresh.valueEncrypted, { secretId: fresh.id, version: fresh.version });
    }
  }

  /** The decision for one secret, once the token is known to be approved. */
  async function decide(
    service: AuthenticatedService,
    secretName: string,
    description: string,
  ): Promise<Decision> {
    const { serviceName, tokenId } = service;
    const secret = await deps.secrets.findByName(secretName);
    if (!secret) {
      let stub: Awaited<ReturnType<typeof deps.secrets.createStubWithAccessRequest>>;
      try {
        stub = await deps.secrets.createStubWithAccessRequest({
          name: secretName,
          description,
          serviceName,
          pendingLimit: deps.pendingRequestsPerService,
        });
      } catch (error) {
        if (!(error instanceof PendingLimitReachedError)) throw error;
        return refuse(requestLimitRefusal(error.hit, secretName), { serviceName });
      }
      const message = `Secret ${secretName} does not exist; it was recorded as missing and an admin was asked to add it`;
      return refuse(new BusError(ErrorCode.NOT_FOUND, message, { reason: Reason.SECRET_STUB_CREATED }), {
        serviceName,
        secretId: stub.secret.id,
      });
    }
    const facts = { serviceName, secretId: secret.id };
    if (!secret.isActive) {
      return refuse(new BusError(ErrorCode.NOT_FOUND, `Secret ${secretName} is not active`), facts);
    }
    let access = await deps.accessRequests.find(secret.id, serviceName);
    if (!access) {
      try {
        access = await deps.accessRequests.requestAccess(
          { secretId: secret.id, serviceName },
          deps.pendingRequestsPerService,
        );
      } catch (error) {
        if (!(error instanceof PendingLimitReachedError)) throw error;
        return refuse(requestLimitRefusal(error.hit, secretName), facts);
      }
    }
    await keepRequestedDescription(secret, access, description);
    if (access.status === "pending") {
      const message = `Access of service "${serviceName}" to ${secretName} is waiting for an admin to approve it`;
      return refuse(
        new BusError(ErrorCode.PERMISSION_DENIED, message, { reason: Reason.ACCESS_PENDING }),
        facts,
      );
    }
    if (access.status === "denied") {
      const message = `Access of service "${serviceName}" to ${secretName} was denied`;
      return refuse(
        new BusError(ErrorCode.PERMISSION_DENIED, message, { reason: Reason.ACCESS_DENIED }),
        facts,
      );
    }
    if (!secret.valueEncrypted) {
      const message = `Secret ${secretName} has no value yet; an admin must set one`;
      return refuse(
        new BusError(ErrorCode.FAILED_PRECONDITION, message, { reason: Reason.SECRET_HAS_NO_VALUE }),
        facts,
      );
    }
    const value = decoder.decode(await decryptCurrent({ ...secret, valueEncrypted: secret.valueEncrypted }));
    return { ok: true, value, facts, tokenId, accessRequestId: access.id };
  }

  /** `decide`, with a failure of the vault itself (database down, bad ciphertext) as a refusal. */
  async function decideSafely(service: AuthenticatedService, secretName: string, description: string) {
    try {
      return await decide(service, secretName, description);
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "get-secret");
      return refuse(error, { serviceName: service.serviceName, level: "error" });
    }
  }

  /** Free text an admin reads: control and format characters go (tab and newline may stay). */
  const cleanDescription = (description: string) =>
    stripControlAndFormat(description, { keepLineBreaks: true });

  const baseFacts = (secretName: string, caller: CallerContext): AuditFacts => ({
    event: AuditEventName.secretGet,
    success: false,
    secretName,
    ...caller,
  });

  const auditFacts = (base: AuditFacts, decision: Decision): AuditFacts =>
    decision.ok
      ? { ...base, ...decision.facts, success: true }
      : { ...base, ...decision.facts, reason: refusalReason(decision.error) };

  async function getSecret(input: GetSecretInput): Promise<string> {
    const base = baseFacts(input.secretName, input.caller);
    const violations = checkGetSecret(input);
    if (violations.length > 0) {
      const error = invalidArgument(violations);
      await deps.recorder.record({ ...base, reason: refusalReason(error) });
      throw error;
    }
    let decision: Decision;
    try {
      const auth = await deps.authenticate(input.token);
      decision = auth.ok
        ? await decide(auth.service, input.secretName, cleanDescription(input.description))
        : refuse(auth.error, { serviceName: auth.serviceName });
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "get-secret");
      await deps.recorder.record({ ...base, reason: refusalReason(error), level: "error" }).catch(() => {});
      throw error;
    }
    await deps.recorder.record(auditFacts(base, decision));
    if (!decision.ok) throw decision.error;
    deps.usage.recordRead(decision.tokenId, decision.accessRequestId);
    return decision.value;
  }

  /**
   * Records every event at once (the publishes are pipelined: none waits for another's acknowledgement)
   * and resolves only when all are stored; otherwise AUDIT_UNAVAILABLE, and nothing may be returned.
   */
  async function recordAll(events: AuditFacts[]): Promise<void> {
    const stored = await Promise.allSettled(events.map((facts) => deps.recorder.record(facts)));
    if (stored.some((outcome) => outcome.status === "rejected")) throw auditUnavailable();
  }

  async function getSecrets(input: GetSecretsInput): Promise<SecretOutcome[]> {
    const violations = checkGetSecrets(input);
    if (violations.length > 0) {
      const error = invalidArgument(violations);
      const names = describeNames(input.secrets.map((secret) => secret.secretName));
      await deps.recorder.record({ ...baseFacts(names, input.caller), reason: refusalReason(error) });
      throw error;
    }
    const bases = input.secrets.map((secret) => baseFacts(secret.secretName, input.caller));
    let auth: Awaited<ReturnType<TokenAuthenticator>>;
    try {
      auth = await deps.authenticate(input.token);
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "get-secrets");
      await recordAll(bases.map((base) => ({ ...base, reason: refusalReason(error), level: "error" }))).catch(
        () => {},
      );
      throw error;
    }
    if (!auth.ok) {
      const { error, serviceName } = auth;
      await recordAll(bases.map((base) => ({ ...base, serviceName, reason: refusalReason(error) })));
      throw error;
    }
    const service = auth.service;
    const names = input.secrets.map((secret) => secret.secretName);
    // Best effort: should it fail, each decision reads on its own and reports its own outcome.
    await deps.warm(names, service.serviceName).catch(() => {});
    const decisions = withinBudget(
      await Promise.all(
        input.secrets.map((secret) =>
          decideSafely(service, secret.secretName, cleanDescription(secret.description)),
        ),
      ),
      names,
    );
    await recordAll(decisions.map((decision, index) => auditFacts(bases[index] as AuditFacts, decision)));
    return decisions.map((decision, index) => {
      const secretName = names[index] ?? "";
      if (!decision.ok) return { secretName, error: decision.error };
      deps.usage.recordRead(decision.tokenId, decision.accessRequestId);
      return { secretName, value: decision.value };
    });
  }

  return { getSecret, getSecrets };
}

export type GetSecretService = ReturnType<typeof createGetSecretService>;
