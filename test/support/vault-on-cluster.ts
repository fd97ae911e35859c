/**
 * The stack for PostgreSQL fault tests: a throwaway PostgreSQL cluster of its own (the machine's shared
 * server is never stopped), a vault on it with a small pool, a gateway, and one service provisioned with
 * one secret it can read.
 */
import { type AdminBusClient, adminBusClient } from "./admin-bus-client.ts";
import { secretsClient } from "./grpc-client.ts";
import { type PostgresCluster, startPostgresCluster } from "./postgres-cluster.ts";
import type { ServiceProcess } from "./processes.ts";
import { provisionService } from "./provision.ts";
import { createStack, type Stack } from "./stack.ts";
import { newServiceToken } from "./tokens.ts";

export interface VaultOnCluster {
  cluster: PostgresCluster;
  databaseUrl: string;
  stack: Stack;
  vault: ServiceProcess;
  grpc: ReturnType<typeof secretsClient>;
  admin: AdminBusClient;
  service: { name: string; token: string };
  dispose(): Promise<void>;
}

export async function startVaultOnCluster(options: {
  database: string;
  serviceName: string;
  secret: { name: string; value: string };
  deadlineMs: number;
}): Promise<VaultOnCluster> {
  const cluster = await startPostgresCluster();
  const databaseUrl = await cluster.createDatabase(options.database);
  const stack = await createStack();
  const vault = await stack.startVault({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: "4" });
  const gateway = await stack.startGateway();
  const grpc = secretsClient(gateway.address, gateway.caFile);
  const admin = adminBusClient(stack.bus, undefined, options.deadlineMs);
  const service = { name: options.serviceName, token: newServiceToken() };
  await provisionService(grpc, admin, service, { [options.secret.name]: options.secret.value });
  return {
    cluster,
    databaseUrl,
    stack,
    vault,
    grpc,
    admin,
    service,
    async dispose() {
      grpc.close();
      await stack.dispose();
      await cluster.dispose();
    },
  };
}
