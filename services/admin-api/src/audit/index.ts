/** The audit route: the trail of every access attempt and admin action, filtered, newest first. */
import { Elysia } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import { adminRouteErrors, errorResponses } from "../shared/model.ts";
import { AuditEventList, AuditQuery, AuditSigningKey, AuditVerification, AuditVerifyQuery } from "./model.ts";
import type { AuditService } from "./service.ts";

export function auditController(deps: { audit: AuditService; auth: AdminAuthPlugin }) {
  return new Elysia({ tags: ["audit"] })
    .use(deps.auth)
    .get("/audit", ({ query }) => deps.audit.query(query), {
      admin: true,
      query: AuditQuery,
      response: { 200: AuditEventList, ...errorResponses(...adminRouteErrors, 409, 422) },
      detail: {
        summary: "Read the audit trail",
        description:
          "Every access attempt and admin action, newest first, from Loki (or the embedded mode's " +
          "journal). Filters combine: secret (name or id), service, event, outcome and time range.",
      },
    })
    .get("/audit/verify", ({ query }) => deps.audit.verify(query), {
      admin: true,
      query: AuditVerifyQuery,
      response: { 200: AuditVerification, ...errorResponses(...adminRouteErrors, 409, 422) },
      detail: {
        summary: "Verify the audit trail",
        description:
          "The audit service reads the trail of the time range back from Loki (or the file journal) and " +
          "checks its hash chain and signed digests: every modified, missing, inserted or reordered event " +
          "and every digest whose signature fails, by position.",
      },
    })
    .get("/audit/signing-key", () => deps.audit.signingKey(), {
      admin: true,
      response: { 200: AuditSigningKey, ...errorResponses(...adminRouteErrors) },
      detail: {
        summary: "The audit signing key",
        description:
          "The Ed25519 public key that verifies the trail's digests (audit-signing.pub), for " +
          "`secrets audit verify --public-key`. Keep a copy away from the audit host.",
      },
    });
}
