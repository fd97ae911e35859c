/** @secrets/embedded: `bun run dev` (see `main.ts`). */
export { banner, newAdminToken } from "./banner.ts";
export { devMode, type EmbeddedConfig, embeddedDefaults, parseEmbeddedConfig } from "./config.ts";
export { type RunningEmbedded, startEmbedded } from "./embedded.ts";
export { type RunningProcesses, startProcesses } from "./processes.ts";
