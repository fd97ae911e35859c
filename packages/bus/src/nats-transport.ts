/**
 * nats.js's Node transport, with writes coalesced per turn of the event loop.
 *
 * nats.js already gathers what is published within one microtask into one socket write, but a server
 * handling many concurrent requests publishes each reply (and each audit event) from its own I/O callback,
 * so under load every message cost a write of its own: a quarter of the gateway's and the vault's CPU at
 * 64 concurrent GetSecret calls went to those writes (see bench/README.md). Here the frames of one turn go
 * out together in one write, just after the turn (`setImmediate`): the order is unchanged, a lone message
 * waits a few microseconds at most, and closing writes what is still pending first.
 */

import type { ConnectionOptions, NatsConnection } from "nats";
import { NatsConnectionImpl, setTransportFactory } from "nats/lib/nats-base-client/internal_mod.js";
import { NodeTransport, nodeResolveHost } from "nats/lib/src/node_transport.js";

export class CoalescingTransport extends NodeTransport {
  private pending: Uint8Array[] = [];
  private scheduled = false;

  override send(frame: Uint8Array): void {
    this.pending.push(frame);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.writePending());
  }

  override close(error?: Error): Promise<void> {
    this.writePending();
    return super.close(error);
  }

  override disconnect(): void {
    this.writePending();
    super.disconnect();
  }

  private writePending(): void {
    this.scheduled = false;
    const frames = this.pending;
    if (frames.length === 0) return;
    this.pending = [];
    super.send(frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames));
  }
}

/** `connect` from "nats", with the coalescing transport for this connection and its reconnections. */
export function connectCoalescing(options: ConnectionOptions): Promise<NatsConnection> {
  // The factory is global to nats.js and read at every (re)connection; nats's own `connect` sets the
  // plain transport again, which only costs the coalescing, never correctness.
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}
