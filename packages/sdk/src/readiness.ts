/**
 * What stands between a service and its secrets, from the errors of one read of every key: one sentence
 * for the operator (what an admin must approve or add), structured fields, and a signature so that each
 * distinct state is logged once.
 */
import {
  AccessDeniedError,
  AccessPendingError,
  SecretMissingError,
  type SecretsError,
  SecretsUnavailableError,
  TokenPendingApprovalError,
} from "./errors.ts";

export interface ReadinessState {
  message: string;
  fields: Record<string, unknown>;
  signature: string;
  /** The error to report if waiting ends now: the one most worth acting on. */
  blocking: SecretsError;
  /** Waiting cannot help (a denied token, a configuration problem, the environment source). */
  fatal: boolean;
}

const list = (keys: string[]) => keys.join(", ");

/** `failures` holds at least one entry. */
export function readinessState(
  serviceName: string,
  failures: { key: string; error: SecretsError }[],
  canWait: boolean,
): ReadinessState {
  const of = <T extends SecretsError>(type: abstract new (...args: never[]) => T) =>
    failures.filter((f): f is { key: string; error: T } => f.error instanceof type);
  const tokenPending = of(TokenPendingApprovalError);
  const tokenDenied = of(AccessDeniedError).filter((f) => f.error.reason === "TOKEN_DENIED");
  const accessDenied = of(AccessDeniedError).filter((f) => f.error.reason !== "TOKEN_DENIED");
  const accessPending = of(AccessPendingError);
  const missing = of(SecretMissingError);
  const unavailable = of(SecretsUnavailableError);
  const known = new Set(
    [tokenPending, tokenDenied, accessDenied, accessPending, missing, unavailable].flat(),
  );
  const other = failures.filter((f) => !known.has(f));
  const keys = (group: { key: string }[]) => group.map((f) => f.key);

  const parts: string[] = [];
  if (tokenDenied.length > 0) parts.push(`the token of service "${serviceName}" was denied or revoked`);
  else if (tokenPending.length > 0) parts.push(`token for service "${serviceName}" awaits approval`);
  if (accessPending.length > 0) parts.push(`access to ${list(keys(accessPending))} awaits approval`);
  if (accessDenied.length > 0)
    parts.push(`access to ${list(keys(accessDenied))} was denied: an admin must approve it`);
  if (missing.length === 1) parts.push(`secret ${keys(missing)[0]} is missing: add a value`);
  if (missing.length > 1) parts.push(`secrets ${list(keys(missing))} are missing: add their values`);
  const firstUnavailable = unavailable[0]?.error;
  if (firstUnavailable)
    parts.push(`secrets are unavailable (${firstUnavailable.reason}): ${firstUnavailable.message}`);
  for (const { error } of other) parts.push(error.message);

  const fields = {
    serviceName,
    tokenPendingApproval: tokenPending.length > 0,
    tokenDenied: tokenDenied.length > 0,
    accessPending: keys(accessPending),
    accessDenied: keys(accessDenied),
    missing: keys(missing),
    unavailable: firstUnavailable ? firstUnavailable.reason : "",
    problems: other.map((f) => ({ key: f.key, error: f.error.name })),
  };
  const ordered = [
    tokenDenied,
    other,
    tokenPending,
    unavailable,
    accessDenied,
    accessPending,
    missing,
  ].flat();
  const blocking = (ordered[0] ?? failures[0])?.error as SecretsError;
  const prefix = serviceName ? `Secrets of service "${serviceName}" not ready` : "Secrets not ready";
  return {
    message: `${prefix}: ${parts.join("; ")}`,
    fields,
    signature: JSON.stringify(fields),
    blocking,
    fatal: !canWait || tokenDenied.length > 0 || other.length > 0,
  };
}
