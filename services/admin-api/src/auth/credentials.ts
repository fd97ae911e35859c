/** What a request presents to authenticate: a Bearer value (admin token or JWT), or a session cookie. */
import { readSessionId } from "./session-cookie.ts";

export type Credential =
  | { kind: "bearer"; value: string }
  | { kind: "session"; id: string }
  | { kind: "malformed"; problem: string };

const bearer = /^Bearer +(\S+)$/i;
const maxCredentialLength = 8_192;

/**
 * The request's credential, or undefined when it presents none. `Authorization` wins over the cookie:
 * a browser never adds it to a cross-site request, so it needs no Origin check.
 */
export function presentedCredential(request: Request, cookieSecure: boolean): Credential | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = bearer.exec(authorization.trim());
    if (!match?.[1] || match[1].length > maxCredentialLength) {
      return { kind: "malformed", problem: "Use Authorization: Bearer <admin token>" };
    }
    return { kind: "bearer", value: match[1] };
  }
  const sessionId = readSessionId(request, cookieSecure);
  return sessionId === undefined ? undefined : { kind: "session", id: sessionId };
}

/** Three base64url segments: a JWT (admin tokens contain no dots). */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}
