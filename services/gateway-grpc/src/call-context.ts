/**
 * What the gateway learns about a call before handling it: who is calling (peer address, user agent),
 * the token they present, and the request id that correlates the gateway's log, the vault and the audit.
 */
import { isIP } from "node:net";
import type { Metadata } from "@grpc/grpc-js";
import { type CallerContext, callerContextOf } from "@secrets/bus";
import { clip, stripControlAndFormat, type Violation } from "@secrets/validation";
import { clientAddress, type TrustedProxies } from "./client-address.ts";

/** Longest user agent forwarded to the vault (it lands in the audit trail). */
const userAgentMaxLength = 256;

/**
 * The host part of a grpc-js peer string, or "" when there is none. grpc-js on Node writes
 * `ipv4:127.0.0.1:40924` / `ipv6:[::1]:40924`; on Bun it writes `127.0.0.1:40924` / `[::1]:40924`.
 * IPv4-mapped IPv6 addresses are returned as IPv4, so one client has one rate-limit key.
 */
export function peerHost(peer: string): string {
  let rest = peer.replace(/^(ipv4|ipv6):/, "");
  if (rest.startsWith("unix:")) return "";
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    rest = end > 0 ? rest.slice(1, end) : rest;
  } else if (rest.split(":").length === 2) {
    rest = rest.slice(0, rest.lastIndexOf(":"));
  }
  rest = rest.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(rest);
  if (mapped?.[1]) return mapped[1];
  return isIP(rest) === 0 ? "" : rest.toLowerCase();
}

/** The first value of a metadata key as text, or "". */
function firstValue(metadata: Metadata, key: string): string {
  const value = metadata.get(key)[0];
  if (value === undefined) return "";
  return typeof value === "string" ? value : value.toString("utf8");
}

/**
 * The caller's `user-agent`, stripped of Unicode control and format characters (a C1 CSI, a bidi override)
 * and shortened for the audit trail.
 */
export function userAgentOf(metadata: Metadata): string {
  return clip(stripControlAndFormat(firstValue(metadata, "user-agent")), userAgentMaxLength);
}

/** The token a call presents and where it came from. */
export type PresentedToken =
  | { ok: true; token: string; source: "metadata" | "field" }
  | { ok: false; problem: string };

/**
 * `authorization: Bearer <token>` metadata wins; otherwise the request's `token` field. An authorization
 * header in any other form is refused rather than silently ignored, so a misconfigured client finds out.
 */
export function presentedToken(metadata: Metadata, field: string): PresentedToken {
  const header = firstValue(metadata, "authorization");
  if (header === "") return { ok: true, token: field, source: "field" };
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match?.[1]) return { ok: false, problem: "must be `Bearer <token>`" };
  return { ok: true, token: match[1], source: "metadata" };
}

/**
 * Resolves the token a call presents and validates the request with it (`check` receives the token).
 * A malformed authorization header is reported under `authorization` instead of a missing token.
 */
export function checkWithPresentedToken(
  metadata: Metadata,
  fieldToken: string,
  check: (token: string) => Violation[],
): { token: string; violations: Violation[] } {
  const presented = presentedToken(metadata, fieldToken);
  if (presented.ok) return { token: presented.token, violations: check(presented.token) };
  const violations = check("").filter((violation) => violation.field !== "token");
  violations.push({ field: "authorization", description: presented.problem });
  return { token: "", violations };
}

/** A fresh, time-ordered request id. */
export function newRequestId(): string {
  return Bun.randomUUIDv7();
}

/**
 * The caller of a grpc-js call, as carried to the vault and written in the gateway's log. Its `ipAddress`
 * is the TCP peer's, or behind one of the `trusted` proxies the one it forwarded (see `client-address.ts`);
 * "" when unknown. Budgets, caps and the audit trail use it.
 */
export function callerOf(
  call: { getPeer(): string; metadata: Metadata },
  trusted: TrustedProxies,
): CallerContext {
  let peer = "";
  try {
    peer = peerHost(call.getPeer());
  } catch {
    // An unknown peer is rate-limited under "" like every other unknown one.
  }
  const userAgent = stripControlAndFormat(firstValue(call.metadata, "user-agent"));
  return callerContextOf(
    { requestId: newRequestId(), ipAddress: clientAddress(peer, call.metadata, trusted), userAgent },
    userAgentMaxLength,
  );
}
