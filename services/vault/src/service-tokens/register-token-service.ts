import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { TokenStatus } from "@secrets/proto/secrets";
import { checkRegisterToken } from "@secrets/validation";
import { type AuditFacts, type AuditRecorder, refusalReason } from "../audit/audit-recorder.ts";
import type { ServiceToken } from "../db/schema.ts";
import { toBusError } from "../errors.ts";
import type { CallerFacts } from "../secrets/get-secret-service.ts";
import type { ServiceTokensDal } from "./service-tokens-dal.ts";
import { hashesMatch, presentedTokenHash } from "./token-hash.ts";

export interface RegisterTokenInput {
  serviceName: string;
  serviceVersion: string;
  token: string;
  caller: CallerFacts;
}

export interface RegisterTokenDeps {
  serviceTokens: Pick<ServiceTokensDal, "findByHash" | "insertPending" | "countPending">;
  recorder: Pick<AuditRecorder, "record">;
  logger: Logger;
  /** Pending tokens kept before new registrations are refused. */
  maxPendingTokens: number;
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
    if ((await deps.serviceTokens.countPending()) >= deps.maxPendingTokens) {
      throw new BusError(
        ErrorCode.RESOURCE_EXHAUSTED,
        "Too many tokens are waiting for approval; an admin must approve or deny some first",
        { reason: Reason.RATE_LIMITED },
      );
    }
    const id = newId();
    const inserted = await deps.serviceTokens.insertPending({
      id,
      serviceName: input.serviceName,
      serviceVersion: input.serviceVersion,
      tokenHash: hash,
    });
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
