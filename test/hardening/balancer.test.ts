/**
 * Behind the shipped balancer: Debian's nginx (stream module, PROXY protocol) runs
 * `deploy/nginx/grpc-lb.conf` adapted to local ports, in front of two real gateways that trust it as a
 * proxy and share one certificate (as on the compose volume). A client host (127.0.0.2) floods it with bad
 * tokens; another (127.0.0.1) is served as if nothing happened: its approved token at once, and even its
 * own unknown token still reaches the vault, because every budget is kept per real client address, which
 * nginx forwards and the audit trail records.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AuditEventName } from "@secrets/bus";
import { GetSecretRequest } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../support/admin-bus-client.ts";
import { readAuditStream } from "../support/audit-stream.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { freePort } from "../support/nats-server.ts";
import { adaptShippedBalancer, type NginxHandle, startNginx } from "../support/nginx.ts";
import { provisionService } from "../support/provision.ts";
import { rawGrpcSession } from "../support/raw-grpc.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const unknownTokensPerAddress = 5;
let stack: Stack;
let nginx: NginxHandle;
let gatewayDataDir: string;
let gatewayAddress: string;

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault();
  gatewayDataDir = stack.tempDir("balanced-gateways-");
  const env = {
    SECRETS_DATA_DIR: gatewayDataDir,
    GATEWAY_TRUSTED_PROXIES: "127.0.0.1",
    GATEWAY_PROXY_PROTOCOL: "true",
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: String(unknownTokensPerAddress),
  };
  // One after the other: the first generates the TLS material both present (as on the compose volume).
  const first = await stack.startGateway(env);
  const second = await stack.startGateway(env);
  gatewayAddress = second.address;
  const port = await freePort();
  const prefix = stack.tempDir("nginx-");
  nginx = await startNginx(
    adaptShippedBalancer({ port, upstreams: [first.port, second.port], prefix }),
    prefix,
    port,
  );
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await stack?.dispose();
});

describe("behind the shipped nginx balancer", () => {
  it("keeps one client host's flood of bad tokens from touching another host's calls", async () => {
    const caFile = join(gatewayDataDir, "tls", "ca.crt");
    const honest = secretsClient(`localhost:${nginx.port}`, caFile);
    const attacker = rawGrpcSession({
      port: nginx.port,
      localAddress: "127.0.0.2",
      caPem: readFileSync(caFile),
      servername: "localhost",
    });
    const service = { name: "balanced", token: newServiceToken() };
    try {
      await provisionService(honest, adminBusClient(stack.bus), service, { BALANCED_KEY: "balanced-value" });

      const flood = await Promise.all(
        Array.from({ length: 100 }, () =>
          attacker.call(
            "/secrets.v1.SecretsService/GetSecret",
            GetSecretRequest.encode({ secretName: "BALANCED_KEY", description: "", token: "" }).finish(),
            { authorization: `Bearer ${newServiceToken()}` },
          ),
        ),
      );
      const reachedVault = flood.filter((o) => o.code === 16); // UNAUTHENTICATED
      const throttled = flood.filter((o) => o.code === 8); // RESOURCE_EXHAUSTED
      expect(reachedVault.length + throttled.length, nginx.errorLog()).toBe(100);
      // Each of the two gateways keeps its own budget for the address.
      expect(reachedVault.length).toBeLessThanOrEqual(2 * unknownTokensPerAddress);
      expect(throttled.every((o) => o.reason === "RATE_LIMITED")).toBe(true);

      const approved = await honest.getSecret("BALANCED_KEY", service.token);
      expect(approved).toMatchObject({ ok: true });
      expect(approved.response?.value).toBe("balanced-value");
      // The other host's budget for unknown tokens is whole: its own mistake still reaches the vault.
      const mistaken = await honest.getSecret("BALANCED_KEY", newServiceToken());
      expect(mistaken.code).toBe("UNAUTHENTICATED");

      // The vault recorded the real addresses nginx forwarded, not the balancer's.
      const events = (await readAuditStream(stack.natsUrl, stack.namespace)).map((e) => e.event);
      const reads = events.filter((e) => e.event === AuditEventName.secretGet);
      const byRequest = new Map(reads.map((e) => [e.requestId, e]));
      expect(byRequest.get(approved.requestId)?.ipAddress).toBe("127.0.0.1");
      expect(byRequest.get(mistaken.requestId)?.ipAddress).toBe("127.0.0.1");
      const floodAddresses = new Set(
        reads
          .filter((e) => e.reason === "UNAUTHENTICATED" && e.requestId !== mistaken.requestId)
          .map((e) => e.ipAddress),
      );
      expect([...floodAddresses]).toEqual(["127.0.0.2"]);
    } finally {
      honest.close();
      attacker.close();
    }
  });

  it("closes a connection from the balancer's address that does not start with a PROXY header", async () => {
    // 127.0.0.1 is a trusted proxy here: without the header it could be any client behind it.
    const direct = secretsClient(gatewayAddress, join(gatewayDataDir, "tls", "ca.crt"));
    try {
      const outcome = await direct.registerToken("direct", newServiceToken());
      expect(outcome.code).toBe("UNAVAILABLE");
    } finally {
      direct.close();
    }
  });
});
