import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { type ChainPoint, genesisHash, linkHash } from "@secrets/audit-chain";
import {
  auditLogLine,
  type ConsumerSpec,
  type DurableAck,
  type DurableConsumer,
  type StreamSpec,
  type StreamState,
  type StreamStore,
} from "@secrets/bus";
import { AuditEvent } from "@secrets/proto/audit";
import { readLines } from "../query/file-query-backend.ts";

interface PendingLine {
  event: AuditEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The embedded mode's durable audit stream: every event the vault publishes is appended to a JSONL
 * journal (`auditLogLine` format, the one the file query backend reads) and fsynced before the publish
 * resolves, so the vault's fail-closed rule holds without NATS: no fsync, no value. Concurrent appends
 * share one write and one fsync (group commit). A full or read-only disk rejects the publish.
 *
 * The journal is hash-chained as it is written (the order is fixed here, in the write queue): each line
 * gets `seq`, `prev_hash` and `hash` as the audit service's shipper gives them (`@secrets/audit-chain`),
 * continuing from the journal's last chained line after a restart. A batch that failed to write keeps its
 * positions, so a line of it that reached the disk is never confused with a later event: the verifier
 * reports the others as missing (their publishes were refused; the vault failed closed).
 */
export class JournalStreamStore implements StreamStore {
  private spec: StreamSpec | undefined;
  private handle: FileHandle | undefined;
  private queue: PendingLine[] = [];
  private writing = false;
  /** After a failed write the file may end mid-line; the next write starts on a fresh line. */
  private needsNewline = false;
  private lastSeq = 0;
  private readonly recentIds = new Map<string, { seq: number; atMs: number }>();
  /** The chain's head; read from the journal before the first write. */
  private chainHead: ChainPoint | undefined;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  async ensure(spec: StreamSpec): Promise<void> {
    this.spec = spec;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
  }

  async remove(_name: string): Promise<void> {
    this.spec = undefined;
  }

  async append(subject: string, payload: Uint8Array, msgId: string): Promise<DurableAck> {
    if (!this.spec?.subjects.includes(subject)) throw new Error(`no stream captures ${subject}`);
    this.forgetOldIds();
    const previous = this.recentIds.get(msgId);
    if (previous) return { seq: previous.seq, duplicate: true };
    const event = AuditEvent.decode(payload);
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      void this.drain();
    });
    const seq = ++this.lastSeq;
    this.recentIds.set(msgId, { seq, atMs: this.now() });
    return { seq, duplicate: false };
  }

  async state(_name: string): Promise<StreamState | undefined> {
    if (!this.spec) return undefined;
    return { messages: this.lastSeq, bytes: 0, firstSeq: this.lastSeq > 0 ? 1 : 0, lastSeq: this.lastSeq };
  }

  async consumer(_name: string, _spec: ConsumerSpec): Promise<DurableConsumer> {
    throw new Error("The embedded audit journal is read by queries, not by consumers");
  }

  async close(): Promise<void> {
    while (this.writing || this.queue.length > 0) await Bun.sleep(5);
    await this.handle?.close();
    this.handle = undefined;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          this.handle ??= await open(this.path, "a", 0o600);
          const text = (this.needsNewline ? "\n" : "") + (await this.chainedLines(batch));
          await this.handle.writeFile(text);
          await this.handle.sync();
          this.needsNewline = false;
          for (const entry of batch) entry.resolve();
        } catch (error) {
          this.needsNewline = true;
          await this.handle?.close().catch(() => {});
          this.handle = undefined;
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** The batch's lines, each linked into the chain (which advances even if the write then fails). */
  private async chainedLines(batch: readonly PendingLine[]): Promise<string> {
    this.chainHead ??= await lastChainPoint(this.path);
    let head = this.chainHead;
    let text = "";
    for (const { event } of batch) {
      const seq = head.seq + 1;
      const canonical = auditLogLine({ ...event, chainSeq: seq, chainPrevHash: "", chainHash: "" });
      const hash = linkHash(head.hash, canonical);
      text += `${auditLogLine({ ...event, chainSeq: seq, chainPrevHash: head.hash, chainHash: hash })}\n`;
      head = { seq, hash };
    }
    this.chainHead = head;
    return text;
  }

  private forgetOldIds(): void {
    const windowMs = this.spec?.duplicateWindowMs ?? 0;
    const now = this.now();
    for (const [id, entry] of this.recentIds) {
      if (now - entry.atMs <= windowMs) break;
      this.recentIds.delete(id);
    }
  }
}

/** The last chained line's (seq, hash), or the genesis point for a new or unchained journal. */
async function lastChainPoint(path: string): Promise<ChainPoint> {
  let point: ChainPoint = { seq: 0, hash: genesisHash };
  if (!(await Bun.file(path).exists())) return point;
  for await (const line of readLines(path)) {
    try {
      const record = JSON.parse(line) as { seq?: unknown; hash?: unknown };
      if (typeof record.seq === "number" && typeof record.hash === "string" && record.seq > point.seq) {
        point = { seq: record.seq, hash: record.hash };
      }
    } catch {
      // A line cut short by a failed write: the next whole line continues the chain.
    }
  }
  return point;
}
