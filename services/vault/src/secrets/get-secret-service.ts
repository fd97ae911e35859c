import { AuditEventName, BusError, ErrorCode, invalidArgument, Reason } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import { checkGetSecret } from "@secrets/validation";
import type { AccessRequestsDal } from "../access-requests/access-requests-dal.ts";
import { type AuditFacts, type AuditRecorder, refusalReason } from "../audit/audit-recorder.ts";
import type { AccessRequest, Secret } from "../db/schema.ts";
import { toBusError } from "../errors.ts";
import { DecryptionError, DecryptionFailure, type Keyring } from "../keyring/index.ts";
import type { TokenAuthenticator } from "../service-tokens/token-authenticator.ts";
import type { UsageRecorder } from "../usage/usage-recorder.ts";
import type { SecretsDal } from "./secrets-dal.ts";

export interface CallerFacts {
  requestId: string;
  ipAddress: string;
  userAgent: string;
}

export interface GetSecretInput {
  secretName: string;
  description: string;
  token: string;
  caller: CallerFacts;
}

export interface GetSecretDeps {
  authenticate: TokenAuthenticator;
  secrets: Pick<SecretsDal, "findByName" | "createStubWithAccessRequest" | "fillEmptyDescription">;
  accessRequests: Pick<AccessRequestsDal, "find" | "insertPending" | "setRequestedDescription">;
  keyring: Pick<Keyring, "decrypt" | "reload">;
  recorder: Pick<AuditRecorder, "record">;
  usage: Pick<UsageRecorder, "recordRead">;
  logger: Logger;
}

type Decision =
  | { ok: true; value: string; facts: Partial<AuditFacts>; tokenId: string; accessRequestId: string }
  | { ok: false; error: BusError; facts: Partial<AuditFacts> };

const refuse = (error: BusError, facts: Partial<AuditFacts>): Decision => ({ ok: false, error, facts });

/**
 * GetSecret, in the specification's order: authenticate the token, find the secret (creating a stub when
 * it is missing), check the service's access request, then decrypt. Every outcome is audited; a value is
 * returned only once its audit event is stored (fail-closed).
 */
export function createGetSecretService(deps: GetSecretDeps) {
  const decoder = new TextDecoder();

  async function reconcileDescription(
    secret: Secret,
    access: AccessRequest,
    description: string,
  ): Promise<void> {
    if (description === "" || description === secret.description) return;
    // An empty stored description is filled; a differing one is kept beside it so admins see the drift.
    if (secret.description === "") await deps.secrets.fillEmptyDescription(secret.id, description);
    else if (access.requestedDescription !== description) {
      await deps.accessRequests.setRequestedDescription(access.id, description);
    }
  }

  /** Decrypts; a key another vault just rotated in is read from the shared key file, once. */
  async function decryptCurrent(envelope: Uint8Array, secretId: string): Promise<Uint8Array> {
    try {
      return deps.keyring.decrypt(envelope, secretId);
    } catch (error) {
      if (!(error instanceof DecryptionError && error.reason === DecryptionFailure.unknownKey)) throw error;
      await deps.keyring.reload();
      return deps.keyring.decrypt(envelope, secretId);
    }
  }

  async function decide(input: GetSecretInput): Promise<Decision> {
    const auth = await deps.authenticate(input.token);
    if (!auth.ok) return refuse(auth.error, { serviceName: auth.serviceName });
    const { serviceName, tokenId } = auth.service;
    const secret = await deps.secrets.findByName(input.secretName);
    if (!secret) {
      const stub = await deps.secrets.createStubWithAccessRequest({
        name: input.secretName,
        description: input.description,
        serviceName,
      });
      const message = `Secret ${input.secretName} does not exist; it was recorded as missing and an admin was asked to add it`;
      return refuse(new BusError(ErrorCode.NOT_FOUND, message, { reason: Reason.SECRET_STUB_CREATED }), {
        serviceName,
        secretId: stub.secret.id,
      });
    }
    const facts = { serviceName, secretId: secret.id };
    if (!secret.isActive) {
      return refuse(new BusError(ErrorCode.NOT_FOUND, `Secret ${input.secretName} is not active`), facts);
    }
    const access =
      (await deps.accessRequests.find(secret.id, serviceName)) ??
      (await deps.accessRequests.insertPending({ secretId: secret.id, serviceName }));
    await reconcileDescription(secret, access, input.description);
    if (access.status === "pending") {
      const message = `Access of service "${serviceName}" to ${input.secretName} is waiting for an admin to approve it`;
      return refuse(
        new BusError(ErrorCode.PERMISSION_DENIED, message, { reason: Reason.ACCESS_PENDING }),
        facts,
      );
    }
    if (access.status === "denied") {
      const message = `Access of service "${serviceName}" to ${input.secretName} was denied`;
      return refuse(
        new BusError(ErrorCode.PERMISSION_DENIED, message, { reason: Reason.ACCESS_DENIED }),
        facts,
      );
    }
    if (!secret.valueEncrypted) {
      const message = `Secret ${input.secretName} has no value yet; an admin must set one`;
      return refuse(
        new BusError(ErrorCode.FAILED_PRECONDITION, message, { reason: Reason.SECRET_HAS_NO_VALUE }),
        facts,
      );
    }
    const value = decoder.decode(await decryptCurrent(secret.valueEncrypted, secret.id));
    return { ok: true, value, facts, tokenId, accessRequestId: access.id };
  }

  return async function getSecret(input: GetSecretInput): Promise<string> {
    const base: AuditFacts = {
      event: AuditEventName.secretGet,
      success: false,
      secretName: input.secretName,
      ...input.caller,
    };
    const violations = checkGetSecret(input);
    if (violations.length > 0) {
      const error = invalidArgument(violations);
      await deps.recorder.record({ ...base, reason: refusalReason(error) });
      throw error;
    }
    let decision: Decision;
    try {
      decision = await decide(input);
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "get-secret");
      await deps.recorder.record({ ...base, reason: refusalReason(error), level: "error" }).catch(() => {});
      throw error;
    }
    if (!decision.ok) {
      await deps.recorder.record({ ...base, ...decision.facts, reason: refusalReason(decision.error) });
      throw decision.error;
    }
    await deps.recorder.record({ ...base, ...decision.facts, success: true });
    deps.usage.recordRead(decision.tokenId, decision.accessRequestId);
    return decision.value;
  };
}

export type GetSecretService = ReturnType<typeof createGetSecretService>;
