/**
 * The `admin` route option: `{ admin: true }` authenticates the request before its input is validated
 * (so an anonymous caller learns nothing about the route's schema) and gives the handler `admin`, the
 * Principal, and `adminContext`, what the vault's admin operations record. Failures are ApiErrors that the pipeline's one error mapping turns into 401/403/429.
 */
import type { AdminContext } from "@secrets/proto/admin";
import { Elysia } from "elysia";
import { type RequestState, requestState } from "../http/request-state.ts";
import type { Authenticator } from "./authenticator.ts";
import type { Principal } from "./principal.ts";

/** OpenAPI security requirement of every admin route: a Bearer credential or the session cookie. */
export const adminSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { sessionCookie: [] }];

const userAgentMaxLength = 512;

/** This request and its admin's credential, as every admin operation on the bus carries them. */
export function adminContextOf(state: RequestState, principal: Principal): AdminContext {
  return {
    credential: principal.credential,
    requestId: state.requestId,
    ipAddress: state.ipAddress,
    userAgent: state.userAgent.slice(0, userAgentMaxLength),
  };
}

export function adminAuth(authenticator: Pick<Authenticator, "authenticate">) {
  return new Elysia({ name: "admin-auth" }).macro({
    admin: {
      detail: { security: adminSecurity },
      async transform({ request }) {
        const state = requestState(request);
        state.principal = await authenticator.authenticate(request, state);
      },
      resolve({ request }) {
        const state = requestState(request);
        const principal = state.principal;
        if (!principal) throw new Error("The admin macro's transform did not run");
        return { admin: principal, adminContext: adminContextOf(state, principal) };
      },
    },
  });
}

export type AdminAuthPlugin = ReturnType<typeof adminAuth>;
