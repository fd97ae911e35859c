import { t } from "elysia";
import {
  nextCursor,
  optionalTimestamp,
  pageQuery,
  pendingLimitsReached,
  timestamp,
} from "../shared/model.ts";

const status = (description: string) =>
  t.Union([t.Literal("pending"), t.Literal("approved"), t.Literal("denied"), t.Literal("revoked")], {
    description,
  });

export const ServiceTokenView = t.Object(
  {
    id: t.String({ description: "The service token's id (never the token, nor its hash)" }),
    serviceName: t.String({ description: "The service that registered the token" }),
    serviceVersion: t.String({ description: "The version it reported; empty when none" }),
    status: status("pending, approved, denied or revoked"),
    requestedAt: timestamp("When the service registered the token"),
    approvedAt: optionalTimestamp("When an admin last decided"),
    approvedBy: t.Nullable(t.String(), { description: "The admin who last decided; null while pending" }),
    lastUsedAt: optionalTimestamp("When the token last authenticated a request"),
    accessCount: t.Integer({ description: "How many requests the token has authenticated" }),
    inheritedAccessRequests: t.Integer({
      description: "Secrets already granted to this service name: what approving the token hands over",
    }),
    fingerprint: t.String({
      description:
        "The first 8 hex characters of the token's SHA-256 (`ab12cd34`); the service logs the same at start-up",
    }),
    clientAddress: t.Nullable(t.String(), {
      description:
        "The client address the registration came from; null for tokens registered before it was kept",
    }),
  },
  { description: "A service token's record; the token itself is never stored or returned" },
);
export type ServiceTokenView = typeof ServiceTokenView.static;
export type ServiceTokenStatusName = ServiceTokenView["status"];

export const ListServiceTokensQuery = t.Object({
  status: t.Optional(status("Only tokens in this status; omitted: every status")),
  ...pageQuery,
});
export type ListServiceTokensQuery = typeof ListServiceTokensQuery.static;

export const ServiceTokenList = t.Object(
  {
    serviceTokens: t.Array(ServiceTokenView, { description: "One page of service tokens, newest first" }),
    nextCursor,
    pendingLimitsReached,
  },
  { description: "A page of service tokens" },
);
export type ServiceTokenList = typeof ServiceTokenList.static;

export const ServiceTokenEnvelope = (description: string) =>
  t.Object({ serviceToken: ServiceTokenView }, { description });
