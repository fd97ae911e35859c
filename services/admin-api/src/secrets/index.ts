/** The secrets routes: list, create or update by name, delete. No route ever returns a value. */
import { Elysia, t } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import type { JsonBodyParsing } from "../http/json-body.ts";
import { adminRouteErrors, errorResponses, idParams } from "../shared/model.ts";
import { ListSecretsQuery, PutSecretBody, SecretEnvelope, SecretList } from "./model.ts";
import type { SecretsService } from "./service.ts";

export function secretsController(deps: {
  secrets: SecretsService;
  auth: AdminAuthPlugin;
  jsonBody: JsonBodyParsing;
}) {
  const { secrets } = deps;
  return new Elysia({ tags: ["secrets"] })
    .use(deps.auth)
    .get("/secrets", ({ query, adminContext }) => secrets.list(adminContext, query), {
      admin: true,
      query: ListSecretsQuery,
      response: { 200: SecretList, ...errorResponses(...adminRouteErrors, 422) },
      detail: {
        summary: "List secrets",
        description:
          "Secrets by name, without their values. Filter by text, or to stubs still missing a value.",
      },
    })
    .post(
      "/secrets",
      async ({ body, adminContext, set }) => {
        const { secret, created } = await secrets.put(adminContext, body);
        set.status = created ? 201 : 200;
        return { secret };
      },
      {
        admin: true,
        parse: [...deps.jsonBody],
        body: PutSecretBody,
        response: {
          200: SecretEnvelope("Updated the existing secret with this name"),
          201: SecretEnvelope("Created the secret"),
          ...errorResponses(...adminRouteErrors, 400, 409, 413, 415, 422),
        },
        detail: {
          summary: "Create or update a secret",
          description:
            "Creates the secret or updates the one with this name. The value is write-only: it is sealed " +
            "to the vault's key before it leaves the admin API and no response ever contains it. Omitting " +
            "the value (or the description) keeps the stored one.",
        },
      },
    )
    .delete(
      "/secrets/:id",
      async ({ params, adminContext, set }) => {
        await secrets.remove(adminContext, params.id);
        set.status = 204;
      },
      {
        admin: true,
        params: idParams("secret"),
        response: {
          204: t.Void({ description: "Deleted, with its access requests" }),
          ...errorResponses(...adminRouteErrors, 404, 409, 422),
        },
        detail: { summary: "Delete a secret", description: "Deletes the secret, its value and its grants." },
      },
    );
}
