import type { StreamSpec } from "./bus.ts";

export interface StoredMessage {
  seq: number;
  subject: string;
  payload: Uint8Array;
  msgId: string;
  storedAtMs: number;
}

/** One stream's messages and bookkeeping, shared with its consumers. */
export interface MemoryStream {
  spec: StreamSpec;
  messages: StoredMessage[];
  bytes: number;
  lastSeq: number;
  /** msgId → seq and time, within the duplicate window. */
  recentIds: Map<string, { seq: number; atMs: number }>;
  /** Called after each append, to wake fetches that wait for messages. */
  listeners: Set<() => void>;
}

/** Removes a message (acknowledged on a work queue, or expired). */
export function dropMessage(stream: MemoryStream, seq: number): void {
  const index = stream.messages.findIndex((message) => message.seq === seq);
  if (index < 0) return;
  const [dropped] = stream.messages.splice(index, 1);
  if (dropped) stream.bytes -= dropped.payload.byteLength;
}
