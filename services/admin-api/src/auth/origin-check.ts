/**
 * CSRF defence for cookie-authenticated requests: a state-changing request must carry an `Origin` equal
 * to the API's own origin (ADMIN_PUBLIC_ORIGIN, else the request's Host). SameSite=Strict already keeps
 * the cookie off cross-site requests; this holds even where a browser ignores SameSite.
 */

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export function isStateChanging(method: string): boolean {
  return !safeMethods.has(method.toUpperCase());
}

function parsedOrigin(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** True when the request's Origin header names this API; false when absent, `null` or foreign. */
export function isSameOrigin(request: Request, publicOrigin: string | undefined): boolean {
  const origin = parsedOrigin(request.headers.get("origin") ?? "");
  if (!origin) return false;
  if (publicOrigin !== undefined) return origin.origin === new URL(publicOrigin).origin;
  const host = request.headers.get("host") ?? new URL(request.url).host;
  return origin.host === host.toLowerCase();
}
