import { secretNamePattern, serviceNamePattern } from "@secrets/validation";
import { t } from "elysia";
import {
  nextCursor,
  optionalTimestamp,
  pageQuery,
  pendingLimitsReached,
  timestamp,
} from "../shared/model.ts";

const status = (description: string) =>
  t.Union([t.Literal("pending"), t.Literal("granted"), t.Literal("denied")], { description });

export const AccessRequestView = t.Object(
  {
    id: t.String({ description: "The access request's id" }),
    secretId: t.String({ description: "The secret asked for" }),
    secretName: t.String({ description: "Its name" }),
    serviceName: t.String({
      description: "The service that asked; a granted request covers every token of it",
    }),
    status: status("pending, granted or denied"),
    requestedAt: timestamp("When the service first asked"),
    grantedAt: optionalTimestamp("When an admin last decided"),
    grantedBy: t.Nullable(t.String(), { description: "The admin who last decided; null while pending" }),
    accessCount: t.Integer({ description: "How many times the service has read the secret" }),
    lastAccessedAt: optionalTimestamp("When the service last read it"),
    requestedDescription: t.Nullable(t.String(), {
      description: "The description the service last sent, when it differs from the secret's; else null",
    }),
  },
  { description: "A service's request to read one secret" },
);
export type AccessRequestView = typeof AccessRequestView.static;
export type AccessStatusName = AccessRequestView["status"];

export const ListAccessRequestsQuery = t.Object({
  status: t.Optional(status("Only requests in this status; omitted: every status")),
  ...pageQuery,
});
export type ListAccessRequestsQuery = typeof ListAccessRequestsQuery.static;

export const AccessRequestList = t.Object(
  {
    accessRequests: t.Array(AccessRequestView, { description: "One page of access requests, newest first" }),
    nextCursor,
    pendingLimitsReached,
  },
  { description: "A page of access requests" },
);
export type AccessRequestList = typeof AccessRequestList.static;

export const AccessRequestEnvelope = (description: string) =>
  t.Object({ accessRequest: AccessRequestView }, { description });

export const GrantAccessBody = t.Object(
  {
    secretName: t.String({ pattern: secretNamePattern.source, description: "The secret to grant, by name" }),
    serviceName: t.String({
      pattern: serviceNamePattern.source,
      description: "The service to grant it to: every approved token of this name may read it",
    }),
  },
  { description: "Grants a service a secret before it asks (moving a service off environment variables)" },
);
export type GrantAccessBody = typeof GrantAccessBody.static;
