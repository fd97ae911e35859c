/**
 * The deployment files cannot run here (no Docker engine), so they are checked against the code: every
 * variable the compose file gives a service is one its configuration accepts (and parses), every file and
 * volume it names exists, every service has a healthcheck, and the gateway can be scaled.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ConfigSpec, configVariables, parseConfig } from "@secrets/config";
import { describe, expect, it } from "vitest";
import { adminApiConfigSpec } from "../services/admin-api/src/config.ts";
import { auditConfigSpec } from "../services/audit/src/config.ts";
import { gatewayConfigSpec } from "../services/gateway-grpc/src/config.ts";
import { vaultConfigSpec } from "../services/vault/src/config.ts";
import { repoRoot } from "./support/processes.ts";

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = Bun.YAML.parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8")) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
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
