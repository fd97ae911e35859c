/**
 * The bare HTTP server behind the admin API's baseline: Bun.serve answering GET with a fixed JSON body
 * the size of a page of secrets, so the load generator measures HTTP itself.
 *
 *   bun bench/servers/http-echo.ts '<HttpEchoSpec as JSON>'
 */
import { announceReady, readSpec } from "../worker-io.ts";

export interface HttpEchoSpec {
  bodyBytes: number;
}

const spec = readSpec<HttpEchoSpec>();
const body = JSON.stringify({ padding: "x".repeat(Math.max(0, spec.bodyBytes - 16)) });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
announceReady({ url: `http://127.0.0.1:${server.port}` });
process.on("SIGTERM", () => void server.stop(true).then(() => process.exit(0)));
