/**
 * The hash chain, computed where the order is fixed: the single active shipper sees events in stream
 * order, so position = stream sequence and hash = SHA-256(prev_hash ‖ the line without its link). The
 * chain continues from the checkpoint each time this process becomes the active shipper, and every
 * `digestIntervalMs` (and at shutdown) a signed digest of the positions since the last one is due.
 */
import type { KeyObject } from "node:crypto";
import { type ChainPoint, genesisHash, linkHash, signDigest } from "@secrets/audit-chain";
import { AuditEventName, auditLogLine } from "@secrets/bus";
import { AuditEvent } from "@secrets/proto/audit";
import type { ChainCheckpointStore } from "./chain-checkpoint.ts";
import type { FindLink } from "./chain-lookup.ts";

export interface AuditTrail {
  /** Continues from the saved checkpoint (called on becoming the active shipper). */
  resume(): Promise<void>;
  /** Sets the chain fields of each event, in stream order; a redelivered position gets its earlier link. */
  link(entries: readonly { seq: number; event: AuditEvent }[]): Promise<void>;
  /** Saves the chain's head once a batch is acknowledged. */
  settled(): Promise<void>;
  /** The signed digest of the positions since the last shipped one; undefined when there are none. */
  pendingDigest(): AuditEvent | undefined;
  /** Marks a digest as shipped: the next one starts after it. */
  digestShipped(digest: AuditEvent): void;
  readonly digestIntervalMs: number;
}

export interface AuditTrailDeps {
  checkpoint: ChainCheckpointStore;
  signingKey: KeyObject;
  digestIntervalMs: number;
  now?: () => number;
  /** Looks up the hash at a position already shipped, when this process does not know it. */
  findLink?: FindLink;
  /** Links remembered for redeliveries (a batch whose acknowledgement was lost); a few batches' worth. */
  rememberLinks?: number;
}

interface Remembered {
  prev: string;
  hash: string;
}

export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const now = deps.now ?? Date.now;
  const remember = deps.rememberLinks ?? 30_000;
  const recent = new Map<number, Remembered>();
  let head: ChainPoint = { seq: 0, hash: genesisHash };
  let digestedThrough = 0;

  function set(event: AuditEvent, seq: number, link: Remembered): void {
    event.chainSeq = seq;
    event.chainPrevHash = link.prev;
    event.chainHash = link.hash;
  }

  return {
    digestIntervalMs: deps.digestIntervalMs,
    async resume() {
      const saved = await deps.checkpoint.load();
      // Our own head is newer when this process shipped after the last save it can see.
      if (saved.seq >= head.seq) head = saved;
      if (digestedThrough === 0 || digestedThrough > head.seq) digestedThrough = head.seq;
    },
    async link(entries) {
      for (const { seq, event } of [...entries].sort((a, b) => a.seq - b.seq)) {
        const known = recent.get(seq);
        if (known) {
          set(event, seq, known);
          continue;
        }
        let prev = seq === head.seq + 1 ? head.hash : undefined;
        // Not the next position: a predecessor shipped the one before (its checkpoint is not ours), or
        // positions were skipped. Its line in the sink says how it was linked; without it, a position
        // past the head continues from the head (a gap the verifier reports as missing) and one below it
        // starts a fresh segment rather than claim a false order.
        prev ??= recent.get(seq - 1)?.hash ?? (await deps.findLink?.(seq - 1, event.timestampMs));
        prev ??= seq > head.seq ? head.hash : genesisHash;
        const canonical = auditLogLine({ ...event, chainSeq: seq, chainPrevHash: "", chainHash: "" });
        const link = { prev, hash: linkHash(prev, canonical) };
        set(event, seq, link);
        recent.set(seq, link);
        if (seq > head.seq) head = { seq, hash: link.hash };
      }
      for (const seq of recent.keys()) {
        if (recent.size <= remember) break;
        recent.delete(seq);
      }
    },
    async settled() {
      await deps.checkpoint.save(head);
    },
    pendingDigest() {
      if (head.seq <= digestedThrough) return undefined;
      const digest = AuditEvent.fromPartial({
        id: crypto.randomUUID(),
        timestampMs: now(),
        level: "info",
        event: AuditEventName.auditDigest,
        success: true,
        digestFirstSeq: digestedThrough + 1,
        chainSeq: head.seq,
        chainHash: head.hash,
      });
      digest.digestSignature = signDigest(
        JSON.parse(auditLogLine(digest)) as Record<string, unknown>,
        deps.signingKey,
      );
      return digest;
    },
    digestShipped(digest) {
      digestedThrough = Math.max(digestedThrough, digest.chainSeq);
    },
  };
}
