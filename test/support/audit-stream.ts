/**
 * Reads what a namespace's audit stream holds, without consuming it (direct gets by sequence), so tests
 * can check what the vault published.
 */
import { AuditEvent } from "@secrets/proto/audit";
import { connect } from "nats";

export interface StoredAuditEvent {
  seq: number;
  /** The raw bytes as stored, for leak checks. */
  data: Uint8Array;
  event: AuditEvent;
}

export async function readAuditStream(natsUrl: string, namespace: string): Promise<StoredAuditEvent[]> {
  const nc = await connect({ servers: natsUrl.split(",") });
  try {
    const jsm = await nc.jetstreamManager();
    const stream = `${namespace.toUpperCase().replaceAll("-", "_")}_AUDIT`;
    const { state } = await jsm.streams.info(stream);
    const events: StoredAuditEvent[] = [];
    if (state.messages === 0) return events;
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (message) events.push({ seq, data: message.data, event: AuditEvent.decode(message.data) });
    }
    return events;
  } finally {
    await nc.close();
  }
}

export async function deleteAuditStream(
  natsUrl: string,
  namespace: string,
  tls?: { caFile: string; certFile?: string; keyFile?: string },
): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(","), ...(tls ? { tls } : {}) });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`${namespace.toUpperCase().replaceAll("-", "_")}_AUDIT`).catch(() => false);
  } finally {
    await nc.close();
  }
}
