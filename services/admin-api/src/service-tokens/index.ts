/** The service-token routes: list, approve, deny, revoke. */
import { Elysia } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import { adminRouteErrors, errorResponses, idParams } from "../shared/model.ts";
import { ListServiceTokensQuery, ServiceTokenEnvelope, ServiceTokenList } from "./model.ts";
import type { ServiceTokenDecision, ServiceTokensService } from "./service.ts";

const decisionDocs: Record<ServiceTokenDecision, { summary: string; description: string; reply: string }> = {
  approve: {
    summary: "Approve a service token",
    description:
      "Lets the token authenticate its service, which then reads every secret already granted to the " +
      "service name (`inheritedAccessRequests`). A denied token may be approved; a revoked one may not (409).",
    reply: "The token, now approved",
  },
  deny: {
    summary: "Deny a service token",
    description: "Refuses a pending token. An approved token cannot be denied; revoke it (409).",
    reply: "The token, now denied",
  },
  revoke: {
    summary: "Revoke a service token",
    description:
      "Stops the token for good; the service must register a new one. Its service's granted access requests stay with the name.",
    reply: "The token, now revoked",
  },
};

export function serviceTokensController(deps: {
  serviceTokens: ServiceTokensService;
  auth: AdminAuthPlugin;
}) {
  const { serviceTokens } = deps;
  const decision = (name: ServiceTokenDecision) => ({
    admin: true as const,
    params: idParams("service token"),
    response: {
      200: ServiceTokenEnvelope(decisionDocs[name].reply),
      ...errorResponses(...adminRouteErrors, 404, 409, 422),
    },
    detail: { summary: decisionDocs[name].summary, description: decisionDocs[name].description },
  });
  return new Elysia({ tags: ["service tokens"] })
    .use(deps.auth)
    .get("/service-tokens", ({ query, adminContext }) => serviceTokens.list(adminContext, query), {
      admin: true,
      query: ListServiceTokensQuery,
      response: { 200: ServiceTokenList, ...errorResponses(...adminRouteErrors, 422) },
      detail: {
        summary: "List service tokens",
        description:
          "Registered service tokens, newest first, optionally in one status. Never a token or hash.",
      },
    })
    .post(
      "/service-tokens/:id/approve",
      ({ params, adminContext }) => serviceTokens.decide(adminContext, params.id, "approve"),
      decision("approve"),
    )
    .post(
      "/service-tokens/:id/deny",
      ({ params, adminContext }) => serviceTokens.decide(adminContext, params.id, "deny"),
      decision("deny"),
    )
    .post(
      "/service-tokens/:id/revoke",
      ({ params, adminContext }) => serviceTokens.decide(adminContext, params.id, "revoke"),
      decision("revoke"),
    );
}
