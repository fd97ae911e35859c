/**
 * Container healthcheck: `bun services/admin-api/src/healthcheck.ts` exits 0 when this admin API answers
 * `GET /healthz` with 200 (the vault answering included), 1 otherwise.
 */
import { parseConfigOrExit } from "@secrets/config";
import { adminApiConfigSpec } from "./config.ts";

const config = parseConfigOrExit(adminApiConfigSpec, process.env);
const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
const response = await fetch(`http://${host}:${config.port}/healthz`, {
  redirect: "error",
  signal: AbortSignal.timeout(4_000),
}).catch(() => undefined);
process.exit(response?.status === 200 ? 0 : 1);
