import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startGateway } from "../test/harness.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const identity = (bytes: Buffer) => bytes;
/** Field 1 (a string) declared 127 bytes long, with 1 byte present: no protobuf decoder accepts it. */
const truncated = Buffer.from([0x0a, 0x7f, 0x41]);

describe("a request message that cannot be decoded", () => {
  it("gets INVALID_ARGUMENT naming the RPC, not grpc-js's INTERNAL, and a log line", async () => {
    harness = await startGateway();
    const h = harness;
    for (const rpc of ["GetSecret", "RegisterToken"]) {
      const error = await new Promise<ServiceError | null>((resolve) =>
        h.client.makeUnaryRequest(`/secrets.v1.SecretsService/${rpc}`, identity, identity, truncated, (e) =>
          resolve(e),
        ),
      );
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(error?.details).toContain(`not a valid ${rpc} message`);
    }
    expect(h.lines.filter((line) => line.undecodable === true)).toHaveLength(2);
  });

  it("ends a server stream with INVALID_ARGUMENT too", async () => {
    harness = await startGateway();
    const stream = harness.client.makeServerStreamRequest(
      "/secrets.v1.SecretsService/WatchSecrets",
      identity,
      identity,
      truncated,
      new Metadata(),
    );
    stream.on("error", () => {});
    const ended = await new Promise<{ code: number }>((resolve) => stream.on("status", resolve));
    expect(ended.code).toBe(status.INVALID_ARGUMENT);
  });
});
