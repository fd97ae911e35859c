import { defineConfig } from "drizzle-kit";

/** `bun run db:generate` writes a new migration to ./drizzle after a change to the schema. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  strict: true,
});
