/**
 * The deployment files cannot run here (no Docker engine), so they are checked against the code: every
 * variable the compose file gives a service is one its configuration accepts (and parses), every file and
 * volume it names exists, every service has a healthcheck, and the gateway can be scaled; and the
 * deployment is safe by default: plain-HTTP ports on loopback only, each container reaching only the peers
 * its job needs, the NATS monitor on loopback, and no bootstrap admin token required after the first start.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfigSpec, configVariables, parseConfig } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { adminApiConfigSpec } from "../services/admin-api/src/config.ts";
import { auditConfigSpec } from "../services/audit/src/config.ts";
import { gatewayConfigSpec } from "../services/gateway-grpc/src/config.ts";
import { vaultConfigSpec } from "../services/vault/src/config.ts";
import { forLocalNatsServer, natsServerBinary } from "./support/nats-server.ts";
import { repoRoot } from "./support/processes.ts";

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  networks?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = Bun.YAML.parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8")) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks: Record<string, { internal?: boolean } | null>;
};
const natsConf = readFileSync(join(repoRoot, "deploy", "nats.conf"), "utf8");

const ours: Record<string, { spec: ConfigSpec; entry: string }> = {
  vault: { spec: vaultConfigSpec, entry: "services/vault/src/main.ts" },
  "gateway-grpc": { spec: gatewayConfigSpec, entry: "services/gateway-grpc/src/main.ts" },
  "admin-api": { spec: adminApiConfigSpec, entry: "services/admin-api/src/main.ts" },
  audit: { spec: auditConfigSpec, entry: "services/audit/src/main.ts" },
};

/** `${NAME}`, `${NAME:-default}` and `${NAME:?message}` as compose fills them, with plausible values. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Z_]+)(?::[-?]([^}]*))?\}/g,
    (_, name: string, fallback: string | undefined) => {
      if (name === "ADMIN_BOOTSTRAP_TOKEN") return `ssadm_${"A".repeat(43)}`;
      if (fallback !== undefined && !fallback.startsWith("set ")) return fallback;
      return "example-password";
    },
  );
}

describe("configuration documentation", () => {
  it("documents every variable each service reads, in its README or the root README", () => {
    const rootReadme = readFileSync(join(repoRoot, "README.md"), "utf8");
    for (const [name, { spec }] of Object.entries(ours)) {
      const readme = readFileSync(join(repoRoot, "services", name, "README.md"), "utf8");
      const undocumented = configVariables(spec).filter(
        (variable) => !readme.includes(`\`${variable}\``) && !rootReadme.includes(`\`${variable}\``),
      );
      expect(undocumented, name).toEqual([]);
    }
  });
});

describe("docker-compose.yml", () => {
  it("runs the four services from the image, each with its own entry point", () => {
    for (const [name, { entry }] of Object.entries(ours)) {
      const service = compose.services[name];
      expect(service?.build, name).toBe(".");
      expect(service?.command, name).toEqual(["bun", entry]);
      expect(existsSync(join(repoRoot, entry)), entry).toBe(true);
    }
  });

  it("sets only variables each service's configuration accepts, with values it parses", () => {
    for (const [name, { spec }] of Object.entries(ours)) {
      const environment = compose.services[name]?.environment ?? {};
      const accepted = configVariables(spec);
      expect(
        Object.keys(environment).filter((variable) => !accepted.includes(variable)),
        name,
      ).toEqual([]);
      const filled = Object.fromEntries(
        Object.entries(environment).map(([k, v]) => [k, interpolate(String(v))]),
      );
      expect(() => parseConfig(spec, filled), name).not.toThrow();
    }
  });

  it("names only files that exist and volumes it declares", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [source = ""] = volume.split(":");
        if (source.startsWith("."))
          expect(existsSync(join(repoRoot, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
      }
    }
    expect(existsSync(join(repoRoot, "Dockerfile"))).toBe(true);
  });

  it("keeps the vault's keys, PostgreSQL, NATS and Loki on named volumes", () => {
    const mounted = (service: string, target: string) =>
      (compose.services[service]?.volumes ?? []).some((v) => v.endsWith(`:${target}`) && !v.startsWith("."));
    expect(mounted("vault", "/app/data")).toBe(true);
    expect(mounted("postgres", "/var/lib/postgresql/data")).toBe(true);
    expect(mounted("nats", "/data")).toBe(true);
    expect(mounted("loki", "/loki")).toBe(true);
    expect(natsConf).toMatch(/store_dir: \/data\/jetstream/);
  });

  it("gives every service a healthcheck, and waits on healthy dependencies", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        expect(condition).toBe("service_healthy");
      }
      const script = service.healthcheck?.test.find((part) => part.endsWith("healthcheck.ts"));
      if (script) expect(existsSync(join(repoRoot, script)), script).toBe(true);
    }
  });

  it("lets the gateway scale: no fixed host port, a load balancer in front", () => {
    expect(compose.services["gateway-grpc"]?.ports).toBeUndefined();
    expect(compose.services["grpc-lb"]?.ports).toEqual(["50051:50051"]);
    const lb = readFileSync(join(repoRoot, "deploy", "nginx", "grpc-lb.conf"), "utf8");
    expect(lb).toContain("server gateway-grpc:50051 resolve");
  });

  it("gives each service its own NATS user and reply prefix from deploy/nats.conf", () => {
    const users = ["vault", "gateway", "admin", "audit"];
    const byService: Record<string, string> = {
      vault: "vault",
      "gateway-grpc": "gateway",
      "admin-api": "admin",
      audit: "audit",
    };
    for (const [service, user] of Object.entries(byService)) {
      const environment = compose.services[service]?.environment ?? {};
      expect(environment.NATS_USER).toBe(user);
      expect(environment.NATS_INBOX_PREFIX).toBe(`_INBOX_${user}`);
      expect(natsConf).toContain(`"_INBOX_${user}.>"`);
    }
    for (const user of users) {
      const variable = `NATS_${user.toUpperCase()}_PASSWORD`;
      expect(natsConf).toContain(`password: $${variable}`);
      expect(Object.keys(compose.services.nats?.environment ?? {})).toContain(variable);
    }
  });

  it("provisions Grafana with the Loki data source its dashboard uses", () => {
    const datasource = Bun.YAML.parse(
      readFileSync(join(repoRoot, "deploy/grafana/provisioning/datasources/loki.yaml"), "utf8"),
    ) as { datasources: { uid: string; url: string }[] };
    const dashboard = JSON.parse(
      readFileSync(join(repoRoot, "deploy/grafana/dashboards/audit.json"), "utf8"),
    );
    const uids = new Set(
      dashboard.panels.map((panel: { datasource: { uid: string } }) => panel.datasource.uid),
    );
    expect([...uids]).toEqual([datasource.datasources[0]?.uid]);
    expect(datasource.datasources[0]?.url).toBe("http://loki:3100");
    expect(compose.services.audit?.environment?.LOKI_URL).toBe("http://loki:3100");
  });
});

describe("docker-compose.yml exposes nothing it does not need to", () => {
  /** Two containers can talk when they share a network; a container with no `networks` joins `default`. */
  const networksOf = (name: string) => compose.services[name]?.networks ?? ["default"];
  const peersOf = (name: string) =>
    Object.keys(compose.services)
      .filter((other) => other !== name && networksOf(other).some((n) => networksOf(name).includes(n)))
      .sort();

  it("publishes the admin API and Grafana (plain HTTP) on 127.0.0.1 only; gRPC (TLS) on every interface", () => {
    expect(compose.services["admin-api"]?.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(compose.services.grafana?.ports).toEqual(["127.0.0.1:3000:3000"]);
    const published = Object.entries(compose.services)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(["admin-api", "grafana", "grpc-lb"]);
  });

  it("lets each container reach only the peers its job needs", () => {
    const reach = Object.fromEntries(Object.keys(compose.services).map((name) => [name, peersOf(name)]));
    expect(reach).toEqual({
      nats: ["admin-api", "audit", "gateway-grpc", "vault"],
      postgres: ["vault"],
      loki: ["audit", "grafana"],
      grafana: ["loki"],
      vault: ["nats", "postgres"],
      // The network-facing process: NATS, and the load balancer in front of it. No database, no Loki.
      "gateway-grpc": ["grpc-lb", "nats"],
      "grpc-lb": ["gateway-grpc"],
      "admin-api": ["nats"],
      audit: ["loki", "nats"],
    });
  });

  it("declares every network it uses; only the networks of published ports have a route out", () => {
    const used = new Set(Object.keys(compose.services).flatMap(networksOf));
    expect([...used].sort()).toEqual(Object.keys(compose.networks).sort());
    const members = (network: string) =>
      Object.keys(compose.services).filter((s) => networksOf(s).includes(network));
    // A network with a route out holds one container, so it connects no container to another.
    for (const [name, network] of Object.entries(compose.networks)) {
      if (network?.internal !== true) expect(members(name), name).toHaveLength(1);
    }
    const outward = Object.entries(compose.networks)
      .filter(([, network]) => network?.internal !== true)
      .map(([name]) => members(name)[0])
      .sort();
    expect(outward).toEqual(["admin-api", "grafana", "grpc-lb"]);
  });

  it("keeps the NATS monitoring endpoint on loopback, where only its own healthcheck reaches it", () => {
    expect(natsConf).toMatch(/^http: 127\.0\.0\.1:8222$/m);
    expect(natsConf).not.toMatch(/^http: (0\.0\.0\.0:)?8222$/m);
    expect(compose.services.nats?.healthcheck?.test.join(" ")).toContain("http://127.0.0.1:8222/healthz");
  });

  it("needs ADMIN_BOOTSTRAP_TOKEN for the first start only: the vault starts without it", () => {
    const environment = compose.services.vault?.environment ?? {};
    // Compose fills an unset variable with "", which the configuration reads as unset.
    expect(environment.ADMIN_BOOTSTRAP_TOKEN).toMatch(/^\$\{ADMIN_BOOTSTRAP_TOKEN:-\}$/);
    const filled = Object.fromEntries(
      Object.entries(environment).map(([k, v]) => [k, k === "ADMIN_BOOTSTRAP_TOKEN" ? "" : interpolate(v)]),
    );
    expect(parseConfig(vaultConfigSpec, filled).adminBootstrapToken).toBeUndefined();
  });

  it("creates the data directory 0700 in the image", () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/mkdir -p -m 0700 \/app\/data/);
  });
});

describe("docker-compose.ha.yml", () => {
  const ha = Bun.YAML.parse(readFileSync(join(repoRoot, "docker-compose.ha.yml"), "utf8")) as typeof compose;
  const clusterConf = readFileSync(join(repoRoot, "deploy", "nats-cluster.conf"), "utf8");
  /** Each HA service and the service of docker-compose.yml it is a copy (or a node) of. */
  const counterparts: Record<string, string> = {
    "nats-1": "nats",
    "nats-2": "nats",
    "nats-3": "nats",
    "vault-1": "vault",
    "vault-2": "vault",
  };
  const baseOf = (name: string) => counterparts[name] ?? name;
  const networksOf = (name: string) => ha.services[name]?.networks ?? ["default"];

  it("runs every service of docker-compose.yml: three NATS nodes, two vaults, the rest as there", () => {
    const bases = new Set(Object.keys(ha.services).map(baseOf));
    expect([...bases].sort()).toEqual(Object.keys(compose.services).sort());
    for (const [name, service] of Object.entries(ha.services)) {
      const base = compose.services[baseOf(name)];
      if (ours[baseOf(name)]) expect(service.command, name).toEqual(base?.command);
    }
    expect(
      (ha.services["gateway-grpc"] as { deploy?: { replicas?: number } }).deploy?.replicas,
    ).toBeGreaterThan(1);
  });

  it("gives every service the three NATS nodes and three copies of the audit stream, in values it parses", () => {
    for (const [name, service] of Object.entries(ha.services)) {
      const own = ours[baseOf(name)];
      if (!own) continue;
      const environment = service.environment ?? {};
      expect(environment.NATS_URL, name).toBe("nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222");
      expect(environment.AUDIT_STREAM_REPLICAS, name).toBe("3");
      const accepted = configVariables(own.spec);
      expect(
        Object.keys(environment).filter((variable) => !accepted.includes(variable)),
        name,
      ).toEqual([]);
      const filled = Object.fromEntries(
        Object.entries(environment).map(([k, v]) => [k, interpolate(String(v))]),
      );
      const parsed = parseConfig(own.spec, filled) as { natsUrl: string; auditStreamReplicas: number };
      expect(parsed.auditStreamReplicas, name).toBe(3);
      // The user, password and reply prefix of the single-node deployment.
      for (const key of ["NATS_USER", "NATS_PASSWORD", "NATS_INBOX_PREFIX"])
        expect(environment[key], `${name} ${key}`).toBe(compose.services[baseOf(name)]?.environment?.[key]);
    }
  });

  it("names only files that exist and volumes it declares, and keeps each NATS node's store apart", () => {
    for (const [name, service] of Object.entries(ha.services)) {
      for (const volume of service.volumes ?? []) {
        const [source = ""] = volume.split(":");
        if (source.startsWith("."))
          expect(existsSync(join(repoRoot, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(ha.volumes), `${name}: volume ${source}`).toContain(source);
      }
    }
    const stores = ["nats-1", "nats-2", "nats-3"].map((node) =>
      (ha.services[node]?.volumes ?? []).find((volume) => volume.endsWith(":/data")),
    );
    expect(new Set(stores).size).toBe(3);
  });

  it("gives every service a healthcheck and waits on healthy dependencies", () => {
    for (const [name, service] of Object.entries(ha.services)) {
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(ha.services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        expect(condition).toBe("service_healthy");
      }
    }
  });

  it("lets each container reach what it does in docker-compose.yml, and only NATS nodes reach their routes", () => {
    const peers = (name: string) =>
      [
        ...new Set(
          Object.keys(ha.services)
            .filter((other) => other !== name && networksOf(other).some((n) => networksOf(name).includes(n)))
            .map(baseOf),
        ),
      ]
        .filter((other) => other !== baseOf(name))
        .sort();
    const single = (name: string) =>
      Object.keys(compose.services)
        .filter(
          (other) =>
            other !== name &&
            (compose.services[other]?.networks ?? []).some((n) =>
              (compose.services[name]?.networks ?? []).includes(n),
            ),
        )
        .sort();
    for (const name of Object.keys(ha.services)) expect(peers(name), name).toEqual(single(baseOf(name)));
    const onRoutes = Object.keys(ha.services).filter((name) => networksOf(name).includes("nats-routes"));
    expect(onRoutes.sort()).toEqual(["nats-1", "nats-2", "nats-3"]);
    expect(ha.networks["nats-routes"]?.internal).toBe(true);
    expect(ha.services.grafana?.ports).toEqual(["127.0.0.1:3000:3000"]);
    expect(ha.services["admin-api"]?.ports).toEqual(["127.0.0.1:8080:8080"]);
  });

  it("runs each NATS node on deploy/nats-cluster.conf, which the real nats-server accepts", () => {
    expect(clusterConf).toMatch(/^include \.\/nats\.conf$/m);
    for (const node of ["nats-1", "nats-2", "nats-3"]) {
      expect(clusterConf).toContain(`nats-route://${node}:6222`);
      expect(ha.services[node]?.environment?.NATS_SERVER_NAME).toBe(node);
      expect(ha.services[node]?.command).toEqual(["-c", "/etc/nats/nats-cluster.conf"]);
    }
    const dir = mkdtempSync(join(tmpdir(), "nats-cluster-conf-"));
    try {
      writeFileSync(join(dir, "nats-cluster.conf"), clusterConf);
      writeFileSync(
        join(dir, "nats.conf"),
        forLocalNatsServer(natsConf).replace("/data/jetstream", join(dir, "js")),
      );
      const check = Bun.spawnSync([natsServerBinary, "-t", "-c", join(dir, "nats-cluster.conf")], {
        env: {
          ...process.env,
          NATS_SERVER_NAME: "nats-1",
          NATS_VAULT_PASSWORD: "v",
          NATS_GATEWAY_PASSWORD: "g",
          NATS_ADMIN_PASSWORD: "a",
          NATS_AUDIT_PASSWORD: "u",
        },
      });
      expect(`${check.stdout}${check.stderr}`).toMatch(/is valid/);
      expect(check.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
