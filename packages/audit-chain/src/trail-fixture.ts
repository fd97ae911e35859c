/**
 * Builds chained trails for tests, the way the audit service writes them (compact JSON, the link last),
 * without the service: the verifier's tests then check the chain's definition, not one writer.
 */
import type { KeyObject } from "node:crypto";
import { genesisHash, linkHash } from "./chain.ts";
import { digestEventName, signDigest } from "./digest.ts";

export interface FixtureLine {
  seq: number;
  hash: string;
  text: string;
}

/** A realistic audit line's fields (about 450 bytes), number `i`. */
export function eventFields(i: number): Record<string, unknown> {
  return {
    timestamp: new Date(1_760_000_000_000 + i * 10).toISOString(),
    level: "info",
    service: "secrets-service",
    event: "secret.get",
    event_id: `0194f1b2-7c3d-7a8b-9c0d-${String(i).padStart(12, "0")}`,
    success: true,
    reason: "",
    secret_id: "0194f1b2-7c3d-7a8b-9c0d-1e2f3a4b5c6d",
    secret_name: `DATABASE_URL_${i % 40}`,
    service_name: ["orders", "billing", "search"][i % 3],
    actor: "",
    target_id: "",
    subject: "",
    request_id: `req-${i}`,
    ip_address: "10.20.30.40",
    user_agent: "grpc-node-js/1.12.6 secrets-sdk/0.4.0 (linux; x64) service-runtime/bun-1.4.4",
  };
}

/** One chained line at `seq` after `prevHash`. */
export function chainedLine(fields: Record<string, unknown>, seq: number, prevHash: string): FixtureLine {
  const canonical = JSON.stringify({ ...fields, seq });
  const hash = linkHash(prevHash, canonical);
  return { seq, hash, text: JSON.stringify({ ...fields, seq, prev_hash: prevHash, hash }) };
}

/** Events at positions `fromSeq`.. (`count` of them) chained after `prevHash`. */
export function chainedTrail(count: number, fromSeq = 1, prevHash = genesisHash): FixtureLine[] {
  const lines: FixtureLine[] = [];
  let prev = prevHash;
  for (let i = 0; i < count; i++) {
    const line = chainedLine(eventFields(fromSeq + i), fromSeq + i, prev);
    lines.push(line);
    prev = line.hash;
  }
  return lines;
}

/** A digest line vouching for `firstSeq..lastSeq` with the chain's hash `lastHash` there. */
export function digestLine(firstSeq: number, lastSeq: number, lastHash: string, key: KeyObject): string {
  const record = {
    timestamp: new Date(1_760_000_000_000 + lastSeq * 10).toISOString(),
    level: "info",
    service: "secrets-service",
    event: digestEventName,
    event_id: `digest-${lastSeq}`,
    first_seq: firstSeq,
    last_seq: lastSeq,
    last_hash: lastHash,
  };
  return JSON.stringify({ ...record, signature: signDigest(record, key) });
}
