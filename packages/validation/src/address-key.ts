/**
 * The key a client address's limits are kept under, at the gateway (budgets, connections, watch streams)
 * and in the vault (pending tokens per address): an IPv4 address itself, an IPv6 address's /64 (one
 * subscriber's allocation: an attacker with a /64 has 2^64 addresses, not 2^64 budgets).
 *
 * @example addressKey("2001:db8:1:2::1") // "2001:db8:1:2::/64"
 */
import { isIP } from "node:net";

export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || "0", 16).toString(16))
    .join(":")}::/64`;
}
