/**
 * The real client address of a call, and the key its budgets are kept under.
 *
 * Behind an L7 gRPC proxy (the shipped nginx configuration) every call arrives from the proxy's address;
 * the proxy names the client in `x-forwarded-for`. That header is believed only when the connection comes
 * from a configured trusted proxy (`GATEWAY_TRUSTED_PROXIES`): from anyone else it is a claim any client
 * could make to spend another's budget. Walking the header from the right, trusted proxies are skipped and
 * the first other address is the client (each proxy appends the address it saw).
 */
import { BlockList, isIP } from "node:net";
import type { Metadata } from "@grpc/grpc-js";

export const forwardedForMetadataKey = "x-forwarded-for";

/** Proxy addresses whose `x-forwarded-for` is believed; empty trusts nobody. */
export interface TrustedProxies {
  readonly size: number;
  has(address: string): boolean;
}

/** The trusted proxies from a list of addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return {
    size: entries.length,
    has: (address) => {
      const version = isIP(address);
      return version !== 0 && list.check(address, version === 6 ? "ipv6" : "ipv4");
    },
  };
}

/** Problems of one `GATEWAY_TRUSTED_PROXIES` entry; undefined when it is an address or a CIDR range. */
export function trustedProxyProblem(entry: string): string | undefined {
  const [address = "", bits, extra] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return `"${entry}" is neither an IP address nor a CIDR range`;
  if (bits === undefined) return undefined;
  const max = version === 6 ? 128 : 32;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max
    ? undefined
    : `"${entry}" has a prefix length outside 0–${max}`;
}

/** An address as one spelling: IPv4-mapped IPv6 as IPv4, IPv6 lower-cased without a zone; "" if not an IP. */
export function normalAddress(text: string): string {
  let address = text.trim();
  if (address.startsWith("[") && address.includes("]")) address = address.slice(1, address.indexOf("]"));
  address = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  return isIP(address) === 0 ? "" : address.toLowerCase();
}

/**
 * The client's address: `peer` itself, or when `peer` is a trusted proxy, the rightmost address of
 * `x-forwarded-for` that is not a trusted proxy. A trusted proxy that sent no usable header is the client.
 */
export function clientAddress(peer: string, metadata: Metadata, trusted: TrustedProxies): string {
  if (trusted.size === 0 || !trusted.has(peer)) return peer;
  const hops = metadata
    .get(forwardedForMetadataKey)
    .flatMap((value) => (typeof value === "string" ? value : value.toString("latin1")).split(","));
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = normalAddress(hops[index] ?? "");
    if (hop === "") return peer;
    if (!trusted.has(hop)) return hop;
  }
  return peer;
}
