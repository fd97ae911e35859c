import type { ChangeSource } from "./watcher.ts";

/** Where a client's values come from: the gateway (`gateway-reader.ts`) or the environment (`env-reader.ts`). */
export interface SecretReader {
  /** The value of a declared key, or one of the SDK's errors. */
  read(key: string): Promise<string>;
  /** Several keys at once (one GetSecrets call where the gateway offers it); one outcome per key, in order. */
  readMany?(keys: readonly string[]): Promise<PromiseSettledResult<string>[]>;
  /** The service the reader acts as ("" for the environment). */
  readonly serviceName: string;
  /** False when waiting cannot change the answer (the environment does not change under a process). */
  readonly canWait: boolean;
  /** Streams of changes for `watch`; absent where values never change under a process (the environment). */
  readonly changes?: ChangeSource;
  close(): void;
}
