/** The secrets routes: list, create or update by name, delete. No route ever returns a value. */
import { Elysia, t } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import type { JsonBodyParsing } from "../http/json-body.ts";
import { adminRouteErrors, errorResponses, idParams } from "../shared/model.ts";
import {
  ListSecretsQuery,
  PutSecretBody,
  RollbackBody,
  SecretEnvelope,
  SecretList,
  SecretVersionList,
} from "./model.ts";
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
            "the value (or the description) keeps the stored one. Each new value is a new version; with " +
            "`expectedVersion`, a change made meanwhile by someone else answers 409 instead of being overwritten.",
        },
      },
    )
    .get("/secrets/:id/versions", ({ params, adminContext }) => secrets.versions(adminContext, params.id), {
      admin: true,
      params: idParams("secret"),
      response: { 200: SecretVersionList, ...errorResponses(...adminRouteErrors, 404, 422) },
      detail: {
        summary: "List a secret's versions",
        description: "The kept values' metadata (number, when, who), newest first; never a value.",
      },
    })
    .post(
      "/secrets/:id/rollback",
      ({ params, body, adminContext }) => secrets.rollback(adminContext, params.id, body),
      {
        admin: true,
        parse: [...deps.jsonBody],
        params: idParams("secret"),
        body: RollbackBody,
        response: {
          200: SecretEnvelope("The secret, its current value now a copy of the version asked for"),
          ...errorResponses(...adminRouteErrors, 400, 404, 409, 413, 415, 422),
        },
        detail: {
          summary: "Roll a secret back to a kept version",
          description:
            "Makes a kept version's value current again, as a new version (services watching the secret " +
            "are told). 404 when that version is no longer kept; 409 on a stale `expectedVersion`.",
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
        detail: {
          summary: "Delete a secret",
          description: "Deletes the secret, its value and its access requests.",
        },
      },
    );
}
