/**
 * Where shipped audit events go. Every sink sits behind this one interface; the shipper decides what to
 * do with each outcome (acknowledge, retry the same batch, or narrow it down and park what is refused).
 */
import type { AuditEvent } from "@secrets/proto/audit";
import type { AuditSinkName } from "../config.ts";

export type SinkOutcome =
  /** Durable at the destination (Loki answered 2xx, the file was fsynced): the events may be acknowledged. */
  | { status: "accepted" }
  /** A failure that may pass (network, 5xx, 429): retry the same events later. */
  | { status: "retry"; reason: string; retryAfterMs?: number }
  /** The destination will never take (some of) these events as they are (a 400): narrow down and park. */
  | { status: "refused"; reason: string };

export interface AuditSink {
  readonly name: AuditSinkName;
  /** Delivers `events` (in stream order). Never rejects: every failure is an outcome. */
  write(events: readonly AuditEvent[]): Promise<SinkOutcome>;
}

/** A short, log-safe description of an error: its name and message, clipped. */
export function failureReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return clip(`${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`);
  }
  return clip(String(error));
}

export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
