import { AuditEventName, type BusError, invalidArgument } from "@secrets/bus";
import type { Logger } from "@secrets/logger";
import type { CallerContext } from "@secrets/proto/vault";
import { checkWatchSecrets } from "@secrets/validation";
import { type AuditFacts, type AuditRecorder, refusalReason } from "../audit/audit-recorder.ts";
import { toBusError } from "../errors.ts";
import type { TokenAuthenticator } from "../service-tokens/token-authenticator.ts";
import { describeNames } from "./audit-secret-names.ts";
import type { WatchableSecret, WatchDal } from "./watch-dal.ts";

export interface AuthorizeWatchInput {
  secretNames: readonly string[];
  token: string;
  caller: CallerContext;
}

export interface WatchDeps {
  authenticate: TokenAuthenticator;
  accessRequests: Pick<WatchDal, "grantedVersions">;
  recorder: Pick<AuditRecorder, "record">;
  logger: Logger;
}

/** A granted secret and its current version, as the reply carries it. */
export interface WatchedVersion {
  secretName: string;
  version: number;
}

/**
 * Authorizes a WatchSecrets stream, or re-checks it after a change: the token is authenticated exactly as
 * for GetSecret, and the reply lists the requested secrets the service is granted with their current
 * versions. Names not granted (unknown, pending, denied) are left out without a word, and nothing is
 * created: watching is not a request for access. Each authorization is one `secret.watch` audit event,
 * recorded before the reply (fail-closed, like GetSecret).
 */
export function createWatchService(deps: WatchDeps) {
  async function decide(
    input: AuthorizeWatchInput,
    names: readonly string[],
  ): Promise<
    | { ok: true; granted: WatchableSecret[]; facts: Partial<AuditFacts> }
    | { ok: false; error: BusError; facts: Partial<AuditFacts> }
  > {
    const auth = await deps.authenticate(input.token);
    if (!auth.ok) return { ok: false, error: auth.error, facts: { serviceName: auth.serviceName } };
    const { serviceName } = auth.service;
    const granted = await deps.accessRequests.grantedVersions(serviceName, names);
    const single = names.length === 1 ? granted[0] : undefined;
    return { ok: true, granted, facts: { serviceName, ...(single ? { secretId: single.id } : {}) } };
  }

  return async function authorizeWatch(input: AuthorizeWatchInput): Promise<WatchedVersion[]> {
    const names = [...new Set(input.secretNames)];
    const base: AuditFacts = {
      event: AuditEventName.secretWatch,
      success: false,
      secretName: describeNames(names),
      ...input.caller,
    };
    const violations = checkWatchSecrets({ secretNames: names, token: input.token });
    if (violations.length > 0) {
      const error = invalidArgument(violations);
      await deps.recorder.record({ ...base, reason: refusalReason(error) });
      throw error;
    }
    let decision: Awaited<ReturnType<typeof decide>>;
    try {
      decision = await decide(input, names);
    } catch (unexpected) {
      const error = toBusError(unexpected, deps.logger, "authorize-watch");
      await deps.recorder.record({ ...base, reason: refusalReason(error), level: "error" }).catch(() => {});
      throw error;
    }
    if (!decision.ok) {
      await deps.recorder.record({ ...base, ...decision.facts, reason: refusalReason(decision.error) });
      throw decision.error;
    }
    await deps.recorder.record({ ...base, ...decision.facts, success: true });
    return decision.granted.map((secret) => ({ secretName: secret.name, version: secret.version }));
  };
}

export type WatchService = ReturnType<typeof createWatchService>;
