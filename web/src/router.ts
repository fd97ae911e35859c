/**
 * Hash routing (`#/secrets`, `#/approvals`, ...): the API's own routes own every path at `/`, so the
 * dashboard's views live in the fragment and never collide with them, and no server fallback is needed.
 */
import { readonly, ref } from "vue";

/** Each view's title, and the shorter label the navigation shows on a phone. */
export const views = {
  secrets: { title: "Secrets", short: "Secrets" },
  missing: { title: "Missing secrets", short: "Missing" },
  approvals: { title: "Pending approvals", short: "Approvals" },
  tokens: { title: "Service tokens", short: "Tokens" },
  audit: { title: "Audit trail", short: "Audit" },
  keys: { title: "Encryption keys", short: "Keys" },
} as const;
export type ViewName = keyof typeof views;

const defaultView: ViewName = "secrets";

function viewFromHash(hash: string): ViewName {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return name in views ? (name as ViewName) : defaultView;
}

const current = ref<ViewName>(viewFromHash(window.location.hash));
window.addEventListener("hashchange", () => {
  current.value = viewFromHash(window.location.hash);
});

export const currentView = readonly(current);

export function hrefOf(view: ViewName): string {
  return `#/${view}`;
}

export function navigate(view: ViewName): void {
  window.location.hash = `/${view}`;
}
