/** The audit route: the trail of every access attempt and admin action, filtered, newest first. */
import { Elysia } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import { adminRouteErrors, errorResponses } from "../shared/model.ts";
import { AuditEventList, AuditQuery } from "./model.ts";
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
    });
}
