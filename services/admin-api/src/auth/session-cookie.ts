/**
 * The dashboard's session cookie. It holds a random session id (the vault stores only its hash), never
 * the admin token; HttpOnly so scripts cannot read it, SameSite=Strict and an Origin check against
 * cross-site requests, Secure unless turned off for plain-HTTP development.
 *
 * When Secure, it is named `__Host-secrets_session`: browsers accept that name only from this exact host
 * over HTTPS, with Path=/ and no Domain, so neither a sibling subdomain nor a plain-HTTP answer (a network
 * attacker's) can plant or overwrite it (session fixation). Only the configured name is read. Plain-HTTP
 * development (ADMIN_COOKIE_SECURE=false) cannot have the prefix and uses `secrets_session`.
 */
import { randomBytes } from "node:crypto";

/** The cookie's name: `__Host-secrets_session` when Secure, `secrets_session` otherwise. */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-secrets_session" : "secrets_session";
}

/** 32 random bytes in base64url: 43 characters. */
const sessionIdPattern = /^[A-Za-z0-9_-]{43}$/;

export function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

export function isWellFormedSessionId(id: string): boolean {
  return sessionIdPattern.test(id);
}

function attributes(maxAgeSeconds: number, secure: boolean): string {
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  const name = sessionCookieName(secure);
  return `${name}=${id}; ${attributes(Math.max(0, Math.floor(maxAgeSeconds)), secure)}`;
}

/** Tells the browser to forget the cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${sessionCookieName(secure)}=; ${attributes(0, secure)}`;
}

/** The session id from the `Cookie` header, if the request carries the cookie under its configured name. */
export function readSessionId(request: Request, secure: boolean): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  const name = sessionCookieName(secure);
  for (const part of header.split(";")) {
    const separator = part.indexOf("=");
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}
