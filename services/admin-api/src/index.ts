/**
 * @secrets/admin-api: the HTTP admin API (Elysia on Bun).
 *
 * - `createApp`: the Elysia app, not listening (tests call `app.handle`).
 * - `adminApiConfigSpec` / `parseAdminApiConfig`: the environment variables it reads.
 * - `busErrorStatus`: the one table from bus error codes to HTTP statuses.
 *
 * The process itself is `src/main.ts`.
 */
export { type AdminApp, type AppConfig, type AppDeps, createApp } from "./app.ts";
export { sessionCookieName } from "./auth/session-cookie.ts";
export { type AdminApiConfig, adminApiConfigSpec, parseAdminApiConfig } from "./config.ts";
export { busErrorStatus } from "./http/error-map.ts";
