/**
 * What the admin API knows about one request, from its first hook to its log line: created in
 * `onRequest` and keyed by the Request object, so that even a request that fails before routing (404,
 * malformed body) has a request id, a client address and a duration.
 */
import { isIP } from "node:net";
import type { Principal } from "../auth/principal.ts";

export interface RequestState {
  /** UUIDv7, returned in `x-request-id` and sent to the vault as the AdminContext's request id. */
  requestId: string;
  startedAt: number;
  ipAddress: string;
  userAgent: string;
  /** The authenticated admin, once known. */
  principal?: Principal;
}

const states = new WeakMap<Request, RequestState>();

/** Something that can tell a request's peer address (Bun's Server). */
export interface PeerAddressSource {
  requestIP(request: Request): { address: string } | null;
}

/**
 * The client's address: the socket peer, or with `trustProxy` the last X-Forwarded-For entry (the one
 * the proxy in front of us appended; earlier entries are whatever the client claimed).
 */
export function clientAddress(
  request: Request,
  server: PeerAddressSource | null | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for") ?? "";
    const last = forwarded.split(",").at(-1)?.trim() ?? "";
    if (isIP(last) !== 0) return last;
  }
  return server?.requestIP(request)?.address ?? "";
}

export function startRequest(request: Request, state: RequestState): RequestState {
  states.set(request, state);
  return state;
}

/** The request's state; a fallback (fresh id) only if `onRequest` never ran for it. */
export function requestState(request: Request): RequestState {
  let state = states.get(request);
  if (!state) {
    state = {
      requestId: Bun.randomUUIDv7(),
      startedAt: performance.now(),
      ipAddress: "",
      userAgent: request.headers.get("user-agent") ?? "",
    };
    states.set(request, state);
  }
  return state;
}
