/**
 * Prints the OpenAPI document the admin API serves at /swagger/json (default settings), built in-process
 * without a vault: the document depends on the routes only. `scripts/gen-openapi.ts` writes it to
 * `services/admin-api/openapi.json` and types the dashboard from it.
 */
import { MemoryBus } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { createApp, parseAdminApiConfig } from "../src/index.ts";

const bus = new MemoryBus({ namespace: "openapi", logger: silentLogger });
const app = createApp({ bus, logger: silentLogger, config: parseAdminApiConfig({}) });
const response = await app.handle(new Request("http://localhost/swagger/json"));
if (!response.ok) throw new Error(`GET /swagger/json answered ${response.status}`);
process.stdout.write(`${JSON.stringify(await response.json(), null, 2)}\n`);
