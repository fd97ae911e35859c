/**
 * Where shipped audit events go. Every sink sits behind this one interface; the shipper decides what to
 * do with each outcome (acknowledge, retry the same batch, or narrow it down and park what is refused).
 */
import type { AuditEvent } from "@secrets/proto/audit";
import { clip } from "@secrets/validation";
import type { AuditSinkName } from "../config.ts";

export type SinkOutcome =
  /** Durable at the destination (Loki answered 2xx, the file was fsynced): the events may be acknowledged. */
  | { status: "accepted" }
  /**
   * A failure that may pass (network, 5xx, 429): retry the same events later. `mayBeTooLarge`: the
   * destination answered in a way a request too large for it also would (429, 413, 5xx), so one that
   * keeps failing is split.
   */
  | { status: "retry"; reason: string; retryAfterMs?: number; mayBeTooLarge?: boolean }
  /** The destination will never take (some of) these events as they are (a 400): narrow down and park. */
  | { status: "refused"; reason: string };

export interface AuditSink {
  readonly name: AuditSinkName;
  /** Delivers `events` (in stream order). Never rejects: every failure is an outcome. */
  write(events: readonly AuditEvent[]): Promise<SinkOutcome>;
  /**
   * How a batch is cut into writes, each retried and acknowledged on its own (Loki: one stream and a
   * bounded size per push). Without it a batch is one write.
   */
  parts?(events: readonly AuditEvent[]): AuditEvent[][];
  /**
   * Asked before an event refused for good is parked: `accepted` when the destination holds it after
   * all (a push it stored whose answer was lost, refused when retried) or took it another way;
   * `refused` to park it; `retry` when it cannot tell yet. Never rejects.
   */
  reconsider?(event: AuditEvent, refusal: string): Promise<SinkOutcome>;
}

/** A short, log-safe description of an error: its name and message, clipped. */
export function failureReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return clipReason(`${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`);
  }
  return clipReason(String(error));
}

/** Longest failure reason logged or reported before it is cut (and marked with an ellipsis). */
const maxReasonLength = 300;

/** A failure reason cut to `maxReasonLength`, an ellipsis marking the cut. */
export const clipReason = (text: string): string => clip(text, maxReasonLength, "…");
