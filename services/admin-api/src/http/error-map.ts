/**
 * The one place where a failure becomes what the client sees: the table from the bus's closed set of
 * error codes to HTTP statuses, Elysia's own errors, and the admin API's ApiErrors, all in one body shape.
 * Anything unexpected becomes a 500 without detail; its detail goes to the log only.
 */
import { BusError, ErrorCode } from "@secrets/bus";
import { NotFoundError, ParseError, ValidationError } from "elysia";
import { ApiError, type FieldProblem } from "./api-error.ts";

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; fields?: FieldProblem[] };
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** True when the failure is the API's or the vault's fault: log it with its detail. */
  internal: boolean;
}

interface Row {
  status: number;
  /** Replaces the vault's message (bus-level failures may name internal subjects). */
  message?: string;
}

const vaultUnavailable = "The vault is unavailable right now; try again shortly";
const internalMessage = "The admin API could not handle the request; its log has the details";

/** The bus error code → HTTP status table. */
export const busErrorStatus: Record<ErrorCode, Row> = {
  [ErrorCode.INVALID_ARGUMENT]: { status: 422 },
  [ErrorCode.UNAUTHENTICATED]: { status: 401 },
  [ErrorCode.PERMISSION_DENIED]: { status: 403 },
  [ErrorCode.NOT_FOUND]: { status: 404 },
  [ErrorCode.CONFLICT]: { status: 409 },
  [ErrorCode.FAILED_PRECONDITION]: { status: 409 },
  [ErrorCode.RESOURCE_EXHAUSTED]: { status: 429 },
  [ErrorCode.UNAVAILABLE]: { status: 503, message: vaultUnavailable },
  [ErrorCode.TIMEOUT]: { status: 503, message: "The vault did not answer in time; try again shortly" },
  [ErrorCode.NO_RESPONDERS]: { status: 503, message: "The vault is not answering; try again shortly" },
  [ErrorCode.INTERNAL]: { status: 500, message: internalMessage },
  [ErrorCode.UNSPECIFIED]: { status: 500, message: internalMessage },
  [ErrorCode.UNRECOGNIZED]: { status: 500, message: internalMessage },
};

const messageMaxLength = 1_024;

function mapped(
  status: number,
  code: string,
  message: string,
  requestId: string,
  extra: { fields?: FieldProblem[]; headers?: Record<string, string>; internal?: boolean } = {},
): MappedError {
  const fields = extra.fields && extra.fields.length > 0 ? { fields: extra.fields } : {};
  return {
    status,
    body: { error: { code, message: message.slice(0, messageMaxLength), requestId, ...fields } },
    headers: extra.headers ?? {},
    internal: extra.internal ?? status >= 500,
  };
}

/** `/name` → `name`, `/admin/actor` → `admin.actor`, `` → the part of the request (`body`, `query`). */
function fieldName(path: string, part: string): string {
  const trimmed = path.replace(/^\//, "").replaceAll("/", ".");
  return trimmed === "" ? part : trimmed;
}

interface Issue {
  summary?: string;
  message: string;
  schema?: { anyOf?: { const?: unknown; type?: unknown }[] };
}

/** A readable message for one schema failure; unions of literals and coerced query values included. */
function describeIssue(issue: Issue): string {
  const branches = issue.schema?.anyOf ?? [];
  const options = branches.map((b) => b.const).filter((c) => typeof c === "string");
  if (branches.length > 0 && options.length === branches.length)
    return `must be one of: ${options.join(", ")}`;
  if (branches.some((b) => b.type === "integer")) return "must be an integer";
  if (branches.some((b) => b.type === "boolean")) return "must be true or false";
  return (issue.summary ?? issue.message).replace(/ but found: .*$/s, "");
}

/** Elysia's schema validation failures, one entry per failing field, never quoting the input. */
export function validationFields(error: ValidationError): FieldProblem[] {
  const seen = new Set<string>();
  const fields: FieldProblem[] = [];
  for (const issue of error.all) {
    const field = fieldName(issue.path ?? "", error.type);
    const message = describeIssue(issue as Issue);
    if (seen.has(`${field}\u0000${message}`)) continue;
    seen.add(`${field}\u0000${message}`);
    fields.push({ field, message });
  }
  return fields.length > 0 ? fields : [{ field: error.type, message: "is not valid" }];
}

/** What the client receives for `error`. */
export function mapError(error: unknown, requestId: string): MappedError {
  // Elysia wraps whatever a body parser throws (our 413/415/400) in a ParseError.
  if (error instanceof ParseError && error.cause instanceof ApiError) return mapError(error.cause, requestId);
  if (error instanceof ApiError) {
    return mapped(error.status, error.code, error.message, requestId, {
      ...(error.extra.fields ? { fields: error.extra.fields } : {}),
      ...(error.extra.headers ? { headers: error.extra.headers } : {}),
      internal: false,
    });
  }
  if (error instanceof BusError) {
    const row = busErrorStatus[error.code] ?? busErrorStatus[ErrorCode.UNRECOGNIZED];
    const code = ErrorCode[error.code] ?? "INTERNAL";
    const fields = error.violations.map((v) => ({ field: v.field, message: v.description }));
    return mapped(
      row.status,
      row.status === 500 ? "INTERNAL" : code,
      row.message ?? error.message,
      requestId,
      {
        fields,
      },
    );
  }
  if (error instanceof ValidationError) {
    // A reply that does not match its documented schema is our bug, not the client's.
    if (error.type === "response") return mapped(500, "INTERNAL", internalMessage, requestId);
    const fields = validationFields(error);
    return mapped(422, "INVALID_ARGUMENT", "Invalid request; see fields", requestId, { fields });
  }
  if (error instanceof NotFoundError) return mapped(404, "NOT_FOUND", "No such route", requestId);
  if (error instanceof ParseError) {
    return mapped(400, "MALFORMED_REQUEST", "The request could not be parsed", requestId);
  }
  return mapped(500, "INTERNAL", internalMessage, requestId);
}
