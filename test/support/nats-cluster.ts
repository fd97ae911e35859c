/**
 * A JetStream cluster of real `nats-server` processes on free ports, routed to each other, each with its
 * own store, for tests that kill and restart nodes. Nodes are named `n1`, `n2`, … (their `server_name`,
 * which JetStream reports as a stream's leader).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect } from "nats";
import { freePort, isListening } from "./nats-server.ts";

const natsServerBinary = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface NatsClusterNode {
  name: string;
  port: number;
  url: string;
  running(): boolean;
  /** SIGKILL: the node goes away as in a crash (its store stays for a restart). */
  kill(): Promise<void>;
  /** Starts it again with the same port, routes and store. */
  start(): Promise<void>;
  log(): string;
}

export interface NatsCluster {
  nodes: NatsClusterNode[];
  /** Every client URL, comma-separated, as NATS_URL takes them. */
  urls: string;
  /** The name of the node leading `stream` (`SECRETS_AUDIT`), asking any node that answers. */
  leaderOf(stream: string): Promise<string>;
  /** Resolves once `stream` has a leader and every replica is current (or after `timeoutMs`). */
  waitForReplicas(stream: string, replicas: number, timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function startNatsCluster(size = 3, clusterName = "secrets-test"): Promise<NatsCluster> {
  if (!existsSync(natsServerBinary)) throw new Error(`nats-server not found at ${natsServerBinary}`);
  const dir = mkdtempSync(join(tmpdir(), "secrets-nats-cluster-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(", ");

  const nodes: NatsClusterNode[] = ports.map((port, index) => {
    const name = `n${index + 1}`;
    const store = join(dir, name);
    mkdirSync(store, { recursive: true });
    const configPath = join(dir, `${name}.conf`);
    writeFileSync(
      configPath,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${port}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: ${clusterName}, listen: 127.0.0.1:${routePorts[index]}, routes: [${routes}] }`,
      ].join("\n"),
    );
    let child: Subprocess | undefined;
    let output = "";
    return {
      name,
      port,
      url: `nats://127.0.0.1:${port}`,
      running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
      log: () => output,
      async kill() {
        const running = child;
        child = undefined;
        if (!running || running.exitCode !== null) return;
        running.kill("SIGKILL");
        await running.exited;
      },
      async start() {
        const spawned = Bun.spawn([natsServerBinary, "-c", configPath], { stdout: "ignore", stderr: "pipe" });
        child = spawned;
        const stderr = spawned.stderr;
        if (stderr instanceof ReadableStream) {
          void (async () => {
            const decoder = new TextDecoder();
            for await (const chunk of stderr) output += decoder.decode(chunk, { stream: true });
          })();
        }
        const deadline = Date.now() + 30_000;
        while (!(await isListening(port))) {
          if (spawned.exitCode !== null || Date.now() > deadline)
            throw new Error(`nats-server ${name} did not start:\n${output}`);
          await Bun.sleep(25);
        }
      },
    };
  });
  await Promise.all(nodes.map((node) => node.start()));

  const urls = nodes.map((node) => node.url).join(",");
  const withManager = async <T>(
    work: (jsm: Awaited<ReturnType<Awaited<ReturnType<typeof connect>>["jetstreamManager"]>>) => Promise<T>,
  ) => {
    const nc = await connect({ servers: nodes.filter((n) => n.running()).map((n) => n.url), timeout: 2_000 });
    try {
      return await work(await nc.jetstreamManager({ timeout: 2_000 }));
    } finally {
      await nc.close();
    }
  };
  const cluster: NatsCluster = {
    nodes,
    urls,
    leaderOf: (stream) =>
      withManager(async (jsm) => {
        const info = await jsm.streams.info(stream);
        return info.cluster?.leader ?? "";
      }),
    async waitForReplicas(stream, replicas, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        try {
          const ready = await withManager(async (jsm) => {
            const info = await jsm.streams.info(stream);
            const current = (info.cluster?.replicas ?? []).filter(
              (replica) => replica.current && !replica.offline,
            );
            last = JSON.stringify(info.cluster);
            return Boolean(info.cluster?.leader) && current.length >= replicas - 1;
          });
          if (ready) return;
        } catch (error) {
          last = String(error);
        }
        await Bun.sleep(200);
      }
      throw new Error(`${stream} did not get ${replicas} current replicas in ${timeoutMs} ms: ${last}`);
    },
    async dispose() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // JetStream answers only once the nodes have elected a meta leader: wait for it, as an operator would.
  const ready = Date.now() + 30_000;
  for (;;) {
    try {
      await withManager(async (jsm) => jsm.getAccountInfo());
      break;
    } catch (error) {
      if (Date.now() > ready)
        throw new Error(`the NATS cluster's JetStream did not come up: ${String(error)}`);
      await Bun.sleep(200);
    }
  }
  return cluster;
}
