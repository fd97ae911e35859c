/** The encryption-key routes: rotate on demand, and the rotation's status. */
import { Elysia } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import { adminRouteErrors, errorResponses } from "../shared/model.ts";
import { KeyStatus, RotationStarted } from "./model.ts";
import type { KeysService } from "./service.ts";

export function keysController(deps: { keys: KeysService; auth: AdminAuthPlugin }) {
  return new Elysia({ tags: ["keys"] })
    .use(deps.auth)
    .get("/keys", ({ adminContext }) => deps.keys.status(adminContext), {
      admin: true,
      response: { 200: KeyStatus, ...errorResponses(...adminRouteErrors) },
      detail: {
        summary: "Encryption-key status",
        description: "When the key was last rotated, when it will be next, and how much the rewrap has left.",
      },
    })
    .post(
      "/keys/rotate",
      async ({ adminContext, set }) => {
        set.status = 202;
        return deps.keys.rotate(adminContext);
      },
      {
        admin: true,
        response: { 202: RotationStarted, ...errorResponses(...adminRouteErrors, 409) },
        detail: {
          summary: "Rotate the encryption key now",
          description:
            "Creates a new current key (new writes use it at once) and starts re-encrypting every value still " +
            "under an older key in the background; a key leaves the key file once no value uses it. One " +
            "rotation at a time: 409 (FAILED_PRECONDITION) while the previous rotation's rewrap is pending.",
        },
      },
    );
}
