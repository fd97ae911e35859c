/** The access-request routes: list, grant ahead of a request, approve (grant), deny. */
import { Elysia } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import type { JsonBodyParsing } from "../http/json-body.ts";
import { adminRouteErrors, errorResponses, idParams } from "../shared/model.ts";
import {
  AccessRequestEnvelope,
  AccessRequestList,
  GrantAccessBody,
  ListAccessRequestsQuery,
} from "./model.ts";
import type { AccessRequestsService } from "./service.ts";

export function accessRequestsController(deps: {
  accessRequests: AccessRequestsService;
  auth: AdminAuthPlugin;
  jsonBody: JsonBodyParsing;
}) {
  const { accessRequests } = deps;
  const decision = (summary: string, description: string, reply: string) => ({
    admin: true as const,
    params: idParams("access request"),
    response: {
      200: AccessRequestEnvelope(reply),
      ...errorResponses(...adminRouteErrors, 404, 409, 422),
    },
    detail: { summary, description },
  });
  return new Elysia({ tags: ["access requests"] })
    .use(deps.auth)
    .get("/access-requests", ({ query, adminContext }) => accessRequests.list(adminContext, query), {
      admin: true,
      query: ListAccessRequestsQuery,
      response: { 200: AccessRequestList, ...errorResponses(...adminRouteErrors, 422) },
      detail: {
        summary: "List access requests",
        description: "Services' requests to read secrets, newest first, optionally in one status.",
      },
    })
    .post(
      "/access-requests",
      async ({ body, adminContext, set }) => {
        const { accessRequest, created } = await accessRequests.grant(adminContext, body);
        set.status = created ? 201 : 200;
        return { accessRequest };
      },
      {
        admin: true,
        parse: [...deps.jsonBody],
        body: GrantAccessBody,
        response: {
          200: AccessRequestEnvelope("The existing request for this secret and service, now granted"),
          201: AccessRequestEnvelope("A new request for this secret and service, granted"),
          ...errorResponses(...adminRouteErrors, 400, 404, 409, 413, 415, 422),
        },
        detail: {
          summary: "Grant a secret to a service ahead of its request",
          description:
            "For moving a service off environment variables: grants the named secret to the service " +
            "before it asks, creating the access request if needed. 404 when no secret has the name.",
        },
      },
    )
    .post(
      "/access-requests/:id/approve",
      ({ params, adminContext }) => accessRequests.approve(adminContext, params.id),
      decision(
        "Grant an access request",
        "Lets every approved token of the service read the secret. Attributed to the acting admin.",
        "The request, now granted",
      ),
    )
    .post(
      "/access-requests/:id/deny",
      ({ params, adminContext }) => accessRequests.deny(adminContext, params.id),
      decision(
        "Deny an access request",
        "Refuses the service the secret; denying a granted request takes the access away.",
        "The request, now denied",
      ),
    );
}
