// Run with Node.js (nghttp2, not Bun's HTTP/2 client, which cannot send a header block over ~64 KiB):
// two GetSecret calls on one HTTP/2 session, the first with a huge `authorization` value. Prints JSON.
// Usage: node node-h2-two-calls.mjs <port> <caFile> <hugeBytes> <token> <requestHex>
import { readFileSync } from "node:fs";
import http2 from "node:http2";

const [port, caFile, hugeBytes, token, requestHex] = process.argv.slice(2);
const session = http2.connect(`https://localhost:${port}`, {
  ca: readFileSync(caFile),
  maxSendHeaderBlockLength: 4 * 1024 * 1024,
});
let goaway = false;
session.on("goaway", () => {
  goaway = true;
});
session.on("error", () => {});

function call(authorization) {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/secrets.v1.SecretsService/GetSecret",
      "content-type": "application/grpc",
      te: "trailers",
      authorization,
    });
    const result = { status: "", message: "", rstCode: undefined };
    const take = (headers) => {
      if (headers["grpc-status"] !== undefined) result.status = String(headers["grpc-status"]);
      if (headers["grpc-message"] !== undefined)
        result.message = decodeURIComponent(String(headers["grpc-message"]));
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => {});
    stream.on("error", (error) => {
      result.error = error.message;
    });
    stream.on("close", () => resolve({ ...result, rstCode: stream.rstCode }));
    const body = Buffer.from(requestHex, "hex");
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    stream.end(Buffer.concat([prefix, body]));
  });
}

const huge = await call(`Bearer ${"a".repeat(Number(hugeBytes))}`);
const next = await call(`Bearer ${token}`);
const open = !session.closed && !session.destroyed;
session.destroy();
process.stdout.write(`${JSON.stringify({ huge, next, goaway, open })}\n`);
