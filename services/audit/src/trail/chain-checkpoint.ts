/**
 * Where the shipper keeps the chain's last (position, hash), so that a restarted shipper, or a standby
 * taking over the lease, continues the chain instead of starting a new one. Saved after each batch is
 * acknowledged and read each time the process becomes the active shipper (the predecessor saved its
 * last batch before releasing the lease). Processes on several hosts must share the file (one volume)
 * for a handover to continue the chain; otherwise the successor continues from its own, older point
 * and the verifier reports a modified link at the handover (see the README).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type ChainPoint, genesisHash } from "@secrets/audit-chain";

export interface ChainCheckpointStore {
  /** The saved point; the genesis point (0, zeros) when none was saved. */
  load(): Promise<ChainPoint>;
  save(point: ChainPoint): Promise<void>;
}

const hexHash = /^[0-9a-f]{64}$/;

/** The checkpoint as a small JSON file (`$SECRETS_DATA_DIR/audit-chain.json`), replaced atomically. */
export function fileChainCheckpoint(path: string): ChainCheckpointStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return { seq: 0, hash: genesisHash };
        throw error;
      }
      const point = JSON.parse(text) as Partial<ChainPoint>;
      if (!Number.isSafeInteger(point.seq) || typeof point.hash !== "string" || !hexHash.test(point.hash)) {
        throw new Error(`the audit chain checkpoint ${path} is not a (seq, hash) pair`);
      }
      return { seq: point.seq as number, hash: point.hash };
    },
    async save(point) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(point), { mode: 0o600 });
      await rename(temporary, path);
    },
  };
}

/** In process: tests, and several shippers of one test sharing it as they would share a file. */
export function memoryChainCheckpoint(
  initial: ChainPoint = { seq: 0, hash: genesisHash },
): ChainCheckpointStore & {
  point: ChainPoint;
} {
  const store = {
    point: initial,
    async load() {
      return store.point;
    },
    async save(point: ChainPoint) {
      store.point = point;
    },
  };
  return store;
}
