/**
 * Container healthcheck: `bun services/vault/src/healthcheck.ts` exits 0 when a vault answers its ping
 * on the bus (its database included), 1 otherwise. Reads the same environment as the vault.
 */
import { probeBus, request, serviceOperations } from "@secrets/bus";
import { parseConfigOrExit } from "@secrets/config";
import { vaultConfigChecks, vaultConfigSpec } from "./config.ts";

const config = parseConfigOrExit(vaultConfigSpec, process.env, vaultConfigChecks);
const healthy = await probeBus(config, "vault-healthcheck", (bus) =>
  request(bus, serviceOperations.ping, {}, { timeoutMs: 3_000 }),
);
process.exit(healthy ? 0 : 1);
