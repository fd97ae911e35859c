/**
 * Load generator for HTTP: closed-loop GETs of one URL (the admin API's `GET /secrets`, or the bare HTTP
 * baseline), each body read in full.
 *
 *   bun bench/workers/http-load.ts '<HttpLoadSpec as JSON>'
 */
import { closedLoop } from "../closed-loop.ts";
import { finish, readSpec } from "../worker-io.ts";

export interface HttpLoadSpec {
  url: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

const spec = readSpec<HttpLoadSpec>();
let bodyBytes = 0;
const summary = await closedLoop({
  ...spec,
  async call() {
    const response = await fetch(spec.url, { headers: spec.headers });
    const body = await response.arrayBuffer();
    if (!response.ok)
      throw new Error(`HTTP ${response.status}: ${new TextDecoder().decode(body).slice(0, 200)}`);
    bodyBytes = body.byteLength;
  },
});
finish({ ...summary, bodyBytes });
