import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { TokenStatus } from "@secrets/proto/secrets";
import type { CallerContext } from "@secrets/proto/vault";
import { checkRegisterToken, stripControlAndFormat, tokenFingerprint } from "@secrets/validation";
import { type AuditFacts, type AuditRecorder, refusalReason } from "../audit/audit-recorder.ts";
import { type PendingLimitHit, PendingLimitReachedError, type PendingLimits } from "../db/pending-limits.ts";
import type { ServiceToken } from "../db/schema.ts";
import { toBusError } from "../errors.ts";
import type { ServiceTokensDal } from "./service-tokens-dal.ts";
import { hashesMatch, presentedTokenHash } from "./token-hash.ts";

export interface RegisterTokenInput {
  serviceName: string;
  serviceVersion: string;
  token: string;
  caller: CallerContext;
}

export interface RegisterTokenDeps {
  serviceTokens: Pick<ServiceTokensDal, "findByHash" | "insertPendingWithinLimits">;
  recorder: Pick<AuditRecorder, "record">;
  logger: Logger;
  /** Pending tokens kept per service name, per client address and in all before registrations are refused. */
  pendingLimits: Pick<PendingLimits, "tokensPerService" | "tokensPerAddress" | "tokensTotal">;
  newId?: () => string;
}

/** The public status of a stored token: revoked reads as denied. */
function publicStatus(row: Pick<ServiceToken, "status">): { status: TokenStatus; message: string } {
  switch (row.status) {
    case "approved":
      return { status: TokenStatus.APPROVED, message: "The token is approved" };
    case "pending":
      return {
        status: TokenStatus.PENDING_APPROVAL,
        message: "The token is registered and waits for an admin's approval",
      };
    default:
      return {
        status: TokenStatus.DENIED,
        message: `The token was ${row.status}; generate a new one and register it`,
      };
  }
}

/** The refusal a registration gets when a queue it would join is full: which limit, and how it clears. */
export function tokenLimitRefusal(hit: PendingLimitHit): BusError {
  const clears =
    "an admin must approve or deny pending tokens (dashboard: Pending approvals) before another registers";
  const messages: Record<PendingLimitHit["scope"], string> = {
    service: `Service "${hit.key}" already has ${hit.pending} tokens waiting for approval, its limit of ${hit.limit} (MAX_PENDING_TOKENS_PER_SERVICE): ${clears}`,
    address: `${hit.pending} tokens registered from ${hit.key} are waiting for approval, the limit of ${hit.limit} for one client address (MAX_PENDING_TOKENS_PER_ADDRESS): ${clears}`,
    all: `Too many tokens are waiting for approval, the limit of ${hit.limit} (MAX_PENDING_TOKENS): ${clears}`,
  };
  return new BusError(ErrorCode.RESOURCE_EXHAUSTED, messages[hit.scope], {
    reason: Reason.PENDING_LIMIT_REACHED,
  });
}

/**
 * RegisterToken: stores a new token's hash as pending, or reports the status of a known token (without
 * changing it, and without saying anything about other tokens). Pending registrations are capped.
 */
export function createRegisterTokenService(deps: RegisterTokenDeps) {
  const newId = deps.newId ?? (() => Bun.randomUUIDv7());

  async function register(
    input: RegisterTokenInput,
  ): Promise<{ status: TokenStatus; message: string; tokenId: string }> {
    const hash = presentedTokenHash(input.token);
    const known = await deps.serviceTokens.findByHash(hash);
    if (known && hashesMatch(known.tokenHash, hash)) return { ...publicStatus(known), tokenId: known.id };
    const id = newId();
    let inserted: boolean;
    try {
      inserted = await deps.serviceTokens.insertPendingWithinLimits(
        {
          id,
          serviceName: input.serviceName,
          // Free text shown to admins: no control or format character may steer what they read.
          serviceVersion: stripControlAndFormat(input.serviceVersion),
          tokenHash: hash,
          clientAddress: input.caller.ipAddress,
        },
        deps.pendingLimits,
      );
    } catch (error) {
      if (error instanceof PendingLimitReachedError) throw tokenLimitRefusal(error.hit);
      throw error;
    }
    if (inserted) return { ...publicStatus({ status: "pending" }), tokenId: id };
    // Registered concurrently by another request: report what is stored.
    const stored = await deps.serviceTokens.findByHash(hash);
    if (!stored) throw new BusError(ErrorCode.UNAVAILABLE, "The token could not be registered; try again");
    return { ...publicStatus(stored), tokenId: stored.id };
  }

  return async function registerToken(
    input: RegisterTokenInput,
  ): Promise<{ status: TokenStatus; message: string }> {
    const base: AuditFacts = {
      event: AuditEventName.tokenRegister,
      success: false,
      serviceName: input.serviceName,
      // The fingerprint an admin compares with the one the service logs; a short hash prefix, no secret.
      subject: input.token === "" ? "" : tokenFingerprint(presentedTokenHash(input.token)),
      ...input.caller,
    };
    let outcome: { status: TokenStatus; message: string; tokenId: string };
    try {
      const violations = checkRegisterToken(input);
      if (violations.length > 0) throw invalidArgument(violations);
      outcome = await register(input);
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "register-token");
      await deps.recorder.record({ ...base, reason: refusalReason(error) }).catch(() => {});
      throw error;
    }
    await deps.recorder.record({ ...base, success: true, targetId: outcome.tokenId });
    return { status: outcome.status, message: outcome.message };
  };
}
