/**
 * A gRPC unary call made by hand over node:http2, for what grpc-js clients cannot do: connect from a
 * chosen local address (127.0.0.2, as another client host would), or send frames a library would not.
 */
import { connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface RawGrpcOutcome {
  /** gRPC status code (0 = OK); -1 when the stream was reset without one. */
  code: number;
  message: string;
  reason: string;
  /** The response message, without its 5-byte frame prefix. */
  body: Buffer;
}

/** An HTTP/2 session over TLS to `port` on 127.0.0.1 from `localAddress`, trusting `caPem`. */
export function rawGrpcSession(options: {
  port: number;
  localAddress: string;
  caPem: Buffer;
  servername: string;
}) {
  const session = http2Connect(`https://${options.servername}:${options.port}`, {
    createConnection: () =>
      tlsConnect({
        socket: netConnect({ host: "127.0.0.1", port: options.port, localAddress: options.localAddress }),
        servername: options.servername,
        ca: options.caPem,
        ALPNProtocols: ["h2"],
      }),
  });
  session.on("error", () => {});

  function call(
    path: string,
    message: Uint8Array,
    metadata: Record<string, string> = {},
  ): Promise<RawGrpcOutcome> {
    const framed = Buffer.alloc(5 + message.byteLength);
    framed.writeUInt32BE(message.byteLength, 1);
    framed.set(message, 5);
    return new Promise((resolve) => {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        ...metadata,
      });
      const chunks: Buffer[] = [];
      let headers: Record<string, unknown> = {};
      stream.on("response", (received) => {
        headers = { ...received };
      });
      stream.on("trailers", (trailers) => {
        headers = { ...headers, ...trailers };
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      const finish = () => {
        const status = headers["grpc-status"];
        const body = Buffer.concat(chunks);
        resolve({
          code: status === undefined ? -1 : Number(status),
          message: decodeURIComponent(String(headers["grpc-message"] ?? "")),
          reason: String(headers["secrets-reason"] ?? ""),
          body: body.byteLength >= 5 ? body.subarray(5) : body,
        });
      };
      stream.on("close", finish);
      stream.on("error", () => {});
      stream.end(framed);
    });
  }

  return { call, close: () => session.close() };
}
