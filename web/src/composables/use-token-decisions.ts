/**
 * Approving, denying and revoking service tokens, as the pending approvals and the tokens list both offer
 * it. Access belongs to the service name, so approving a token of a service that already holds granted access only
 * marks it `inheriting`: `ApproveInheritingToken` shows what it inherits and approves on confirmation.
 */

import type { ServiceTokenView } from "@secrets/admin-api-schema";
import { ref } from "vue";
import { describeError } from "../api/http.ts";
import { useDecideToken } from "../api/queries.ts";
import { notify } from "../notices.ts";

export type TokenDecision = "approve" | "deny" | "revoke";

const done: Record<TokenDecision, string> = { approve: "Approved", deny: "Denied", revoke: "Revoked" };

export function useTokenDecisions() {
  const decide = useDecideToken();
  /** The token whose button was pressed, so only its row shows it is working. */
  const busy = ref("");
  /** A token whose approval hands over existing granted access, waiting for confirmation. */
  const inheriting = ref<ServiceTokenView | undefined>();

  /**
   * Sends the decision; true once it is recorded. A failure is announced, unless a dialog shows it
   * (`decide.error`): a revoke's, or one confirmed in a dialog (`inDialog`).
   */
  async function run(token: ServiceTokenView, decision: TokenDecision, inDialog = decision === "revoke") {
    busy.value = token.id;
    try {
      await decide.mutateAsync({ id: token.id, decision });
      notify(`${done[decision]} the token of ${token.serviceName}`);
      return true;
    } catch (error) {
      if (!inDialog) notify(describeError(error), "error");
      return false;
    } finally {
      busy.value = "";
    }
  }

  /** Approves at once, unless the token inherits granted access: then it waits in `inheriting`. */
  function approve(token: ServiceTokenView) {
    if (token.inheritedAccessRequests > 0) inheriting.value = token;
    else void run(token, "approve");
  }

  return { decide, busy, inheriting, run, approve };
}
