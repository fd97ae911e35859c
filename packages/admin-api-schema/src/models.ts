/**
 * The admin API's JSON shapes under the names its models have (`services/admin-api/src/*\/model.ts`),
 * taken from the types generated from its OpenAPI document (`schema.ts`): a field renamed in the API
 * fails the dashboard's type check. Timestamps are ISO-8601 strings or null; no shape holds a secret
 * value or a token.
 */
import type { operations } from "./schema.ts";

/** The JSON body operation `O` answers with status `S`. */
export type ResponseBody<
  O extends keyof operations,
  S extends keyof operations[O]["responses"],
> = operations[O]["responses"][S] extends { content: { "application/json": infer Body } } ? Body : never;

/** The JSON body operation `O` takes. */
export type RequestBody<O extends keyof operations> = operations[O] extends {
  requestBody: { content: { "application/json": infer Body } };
}
  ? Body
  : never;

export type SecretList = ResponseBody<"getSecrets", 200>;
export type SecretView = SecretList["secrets"][number];
export type PutSecretBody = RequestBody<"postSecrets">;
export type RollbackBody = RequestBody<"postSecretsByIdRollback">;
export type SecretVersionList = ResponseBody<"getSecretsByIdVersions", 200>;
export type SecretVersionView = SecretVersionList["versions"][number];

export type AccessRequestList = ResponseBody<"getAccessRequests", 200>;
export type AccessRequestView = AccessRequestList["accessRequests"][number];
export type AccessStatusName = AccessRequestView["status"];
/** A pending queue at the vault's limit (`MAX_PENDING_*`). */
export type PendingLimitView = AccessRequestList["pendingLimitsReached"][number];

export type ServiceTokenList = ResponseBody<"getServiceTokens", 200>;
export type ServiceTokenView = ServiceTokenList["serviceTokens"][number];
export type ServiceTokenStatusName = ServiceTokenView["status"];

export type AuditEventList = ResponseBody<"getAudit", 200>;
export type AuditEventView = AuditEventList["events"][number];
export type AuditVerification = ResponseBody<"getAuditVerify", 200>;
export type AuditTrailProblemView = AuditVerification["problems"][number];

export type KeyStatus = ResponseBody<"getKeys", 200>;
export type RotationStarted = ResponseBody<"postKeysRotate", 202>;

export type CurrentSessionView = ResponseBody<"getSession", 200>;

/** The one error body every failure carries. */
export type ErrorBody = ResponseBody<"getSecrets", 401>;
export type FieldProblem = NonNullable<ErrorBody["error"]["fields"]>[number];
