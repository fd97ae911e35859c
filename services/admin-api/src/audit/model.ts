import { auditEventNames } from "@secrets/bus";
import { t } from "elysia";
import { timestamp } from "../shared/model.ts";

export const AuditQuery = t.Object({
  secret: t.Optional(t.String({ maxLength: 128, description: "A secret's name or id" })),
  service: t.Optional(t.String({ maxLength: 64, description: "A service name" })),
  event: t.Optional(t.String({ maxLength: 64, description: `An event name: ${auditEventNames.join(", ")}` })),
  outcome: t.Optional(
    t.Union([t.Literal("success"), t.Literal("failure")], {
      description: "Only successes, or only refusals and failures; omitted: both",
    }),
  ),
  from: t.Optional(
    t.String({ format: "date-time", description: "Oldest event time; default 24 hours before `to`" }),
  ),
  to: t.Optional(t.String({ format: "date-time", description: "Newest event time; default now" })),
  limit: t.Optional(t.Integer({ description: "Most events returned, 1–1000; default 100" })),
  cursor: t.Optional(
    t.String({
      maxLength: 32_768,
      description: "`nextCursor` of the previous page (older events, same window); omit for the first page",
    }),
  ),
});
export type AuditQuery = typeof AuditQuery.static;

const text = (description: string) =>
  t.Nullable(t.String(), { description: `${description}; null when none` });

export const AuditEventView = t.Object(
  {
    id: t.String({ description: "The event's id (UUIDv7)" }),
    timestamp: timestamp("When it happened"),
    level: t.String({
      description: "info for successes, warn for refusals, error for failures of the service",
    }),
    event: t.String({ description: "What happened, such as secret.get or access.approve" }),
    success: t.Boolean({ description: "Whether the attempt succeeded" }),
    reason: text("The machine reason of a refusal (TOKEN_PENDING_APPROVAL, ACCESS_DENIED, ...)"),
    secretId: text("The secret concerned"),
    secretName: text("Its name"),
    serviceName: text("The service concerned"),
    actor: text("The admin who acted"),
    targetId: text("The access request, service token or admin token concerned"),
    subject: text("The name of what an admin action concerned, when no other field names it"),
    requestId: text("The request's id, as in the gateway's and admin API's responses"),
    ipAddress: text("The caller's address"),
    userAgent: text("The caller's user agent"),
  },
  { description: "One audit event; never holds a secret value or a token" },
);
export type AuditEventView = typeof AuditEventView.static;

export const AuditEventList = t.Object(
  {
    events: t.Array(AuditEventView, { description: "Matching events, newest first" }),
    nextCursor: t.Nullable(t.String(), {
      description: "Pass as `cursor` (with the same filters) for older events; null when there are no more",
    }),
  },
  { description: "Audit events" },
);
export type AuditEventList = typeof AuditEventList.static;

export const AuditVerifyQuery = t.Object({
  from: t.Optional(
    t.String({ format: "date-time", description: "Oldest event time; default 24 hours before `to`" }),
  ),
  to: t.Optional(t.String({ format: "date-time", description: "Newest event time; default now" })),
});
export type AuditVerifyQuery = typeof AuditVerifyQuery.static;

export const AuditTrailProblemView = t.Object(
  {
    kind: t.Union(
      [
        t.Literal("modified"),
        t.Literal("missing"),
        t.Literal("inserted"),
        t.Literal("reordered"),
        t.Literal("bad-digest"),
      ],
      { description: "What is wrong (see the audit service's README)" },
    ),
    seq: t.Nullable(t.Integer(), {
      description: "The position concerned (for missing, the first); null when none",
    }),
    toSeq: t.Nullable(t.Integer(), {
      description: "For missing: the last position of the range; null otherwise",
    }),
    detail: t.String({ description: "A sentence saying what was found" }),
  },
  { description: "One problem the verifier found in the audit trail" },
);

export const AuditVerification = t.Object(
  {
    ok: t.Boolean({ description: "True when the range's chain and every digest in it verify" }),
    from: timestamp("The start of the range verified"),
    to: timestamp("The end of the range verified"),
    events: t.Integer({ description: "Chained events read" }),
    firstSeq: t.Nullable(t.Integer(), { description: "The lowest position read; null when none" }),
    lastSeq: t.Nullable(t.Integer(), { description: "The highest position read; null when none" }),
    validDigests: t.Integer({ description: "Signed digests that verified" }),
    signedThroughSeq: t.Nullable(t.Integer(), {
      description: "The highest position a valid digest vouches for; null when none",
    }),
    truncated: t.Boolean({ description: "True when the range held more lines than one verification reads" }),
    problems: t.Array(AuditTrailProblemView, { description: "Every problem, by position" }),
  },
  { description: "The audit trail's hash chain and signed digests, verified over a time range" },
);
export type AuditVerification = typeof AuditVerification.static;

export const AuditSigningKey = t.Object(
  {
    publicKey: t.String({
      description: "The Ed25519 public key (PEM) that verifies the trail's digests: audit-signing.pub",
    }),
  },
  { description: "The audit service's signing key, public part" },
);
export type AuditSigningKey = typeof AuditSigningKey.static;
