/**
 * Signing in and out. The admin token goes to `POST /session` once and is never kept: the API answers with
 * an HttpOnly cookie that scripts cannot read. Any 401 afterwards (session ended elsewhere, admin token
 * revoked) drops every cached answer and shows the login page with a notice.
 */
import type { QueryClient } from "@tanstack/vue-query";
import { ref } from "vue";
import { adminApi, call, onUnauthenticated } from "./api/http.ts";
import { queryKeys } from "./api/queries.ts";

/** Shown above the login form: why the admin is there. */
export const loginNotice = ref("");

export function watchForSignOut(client: QueryClient): void {
  onUnauthenticated(() => {
    if (!client.getQueryData(queryKeys.session)) return;
    loginNotice.value = "Your session has ended. Sign in again to continue.";
    signedOut(client);
  });
}

function signedOut(client: QueryClient): void {
  client.cancelQueries();
  client.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.session[0] });
  client.setQueryData(queryKeys.session, null);
}

export async function signIn(client: QueryClient, token: string): Promise<void> {
  const session = await call(adminApi.POST("/session", { body: { token } }));
  loginNotice.value = "";
  client.setQueryData(queryKeys.session, session);
  // The sign-in reply says who; `GET /session` also says what to warn about (the bootstrap token).
  void client.invalidateQueries({ queryKey: queryKeys.session });
}

export async function signOut(client: QueryClient): Promise<void> {
  try {
    await call(adminApi.DELETE("/session"));
  } finally {
    loginNotice.value = "You have signed out.";
    signedOut(client);
  }
}
