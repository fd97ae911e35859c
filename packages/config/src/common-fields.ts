import { env } from "./fields.ts";

/** `LOG_LEVEL`: the least severe level written. */
export const logLevelField = env.oneOf(
  "LOG_LEVEL",
  "least severe log level written: debug, info, warn or error",
  ["debug", "info", "warn", "error"],
  { default: "info" },
);

/** `SECRETS_DATA_DIR`: where a process keeps its files (keys, TLS material, embedded database). */
export const dataDirField = env.string(
  "SECRETS_DATA_DIR",
  "directory for the process's files: encryption keys, TLS material, the embedded database",
  { default: "./data" },
);
