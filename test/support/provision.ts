/**
 * Gets a service to the point where it reads its secrets: its token registered over gRPC and approved,
 * each secret set and granted to it, through the admin operations on the bus (as an admin would).
 */
import { ServiceTokenStatus } from "@secrets/proto/admin";
import type { AdminBusClient } from "./admin-bus-client.ts";
import type { secretsClient } from "./grpc-client.ts";

export async function provisionService(
  grpc: ReturnType<typeof secretsClient>,
  admin: AdminBusClient,
  service: { name: string; token: string },
  secrets: Record<string, string>,
): Promise<void> {
  for (const [name, value] of Object.entries(secrets)) {
    await admin.putSecret(name, { value });
    await admin.grantAccess(name, service.name);
  }
  const registered = await grpc.registerToken(service.name, service.token);
  if (!registered.ok) throw new Error(`RegisterToken for ${service.name} failed: ${registered.details}`);
  const pending = await admin.listServiceTokens(ServiceTokenStatus.PENDING);
  const token = pending.serviceTokens.find((t) => t.serviceName === service.name);
  if (!token) throw new Error(`no pending token for ${service.name}`);
  await admin.approveToken(token.id);
  for (const name of Object.keys(secrets)) {
    const read = await grpc.getSecret(name, service.token);
    if (!read.ok) throw new Error(`${service.name} cannot read ${name}: ${read.code} ${read.reason}`);
  }
}
