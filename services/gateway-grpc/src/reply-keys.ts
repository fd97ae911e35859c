/**
 * The gateway's side of sealed replies: the vault seals each value to the reply key this process sends
 * with the request, so the bus never carries it in clear and other gateway replicas (which share NATS
 * credentials) cannot read it. The key pair is renewed every hour, which bounds how many replies one
 * derived AES key protects.
 */
import { status } from "@grpc/grpc-js";
import type { Logger } from "@secrets/logger";
import type { SealedReplyValue } from "@secrets/proto/vault";
import { ReplyKeyPair, SealingError, sealedReplyContext } from "@secrets/sealing";
import { GatewayFailure } from "./status-map.ts";

const renewAfterMs = 60 * 60 * 1000;

export class ReplyKeys {
  private pair = new ReplyKeyPair();
  private createdAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.createdAt = now();
  }

  /** The key pair for a new request; the same pair must open its reply. */
  current(): ReplyKeyPair {
    if (this.now() - this.createdAt >= renewAfterMs) {
      this.pair = new ReplyKeyPair();
      this.createdAt = this.now();
    }
    return this.pair;
  }
}

/**
 * The value of a vault reply to a request sent with `keys`: opened from `sealed`, or as is from `value`
 * when the reply was not sealed (an in-process vault). A reply that does not open is a failure, never
 * passed on.
 */
export function openReply(
  keys: ReplyKeyPair,
  reply: { value: string; sealed?: SealedReplyValue | undefined },
  secretName: string,
  requestId: string,
  logger: Logger,
): string {
  if (reply.sealed === undefined) return reply.value;
  try {
    return keys.open(reply.sealed, sealedReplyContext(secretName, requestId));
  } catch (error) {
    if (!(error instanceof SealingError)) throw error;
    logger.error("a sealed reply from the vault did not open", { secretName, requestId, error });
    throw new GatewayFailure(status.INTERNAL, "The vault's reply could not be read");
  }
}
