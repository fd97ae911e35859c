export type * from "./models.ts";
export type { components, operations, paths } from "./schema.ts";
