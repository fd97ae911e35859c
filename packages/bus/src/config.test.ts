import { ConfigError, parseConfig } from "@secrets/config";
import { describe, expect, it } from "vitest";
import type { BusConfig } from "./config.ts";
import { busConfigChecks, busConfigFields, natsTlsFromConfig } from "./config.ts";

const plain: BusConfig = {
  natsUrl: "nats://127.0.0.1:4222",
  auditStreamReplicas: 1,
  natsUser: undefined,
  natsPassword: undefined,
  natsCredsFile: undefined,
  natsTlsCaFile: undefined,
  natsTlsCertFile: undefined,
  natsTlsKeyFile: undefined,
  natsInboxPrefix: "_INBOX",
  busNamespace: "secrets",
};

describe("natsTlsFromConfig", () => {
  it("is plaintext without TLS settings, and verified TLS with a CA, a client certificate optional", () => {
    expect(natsTlsFromConfig(plain)).toBeUndefined();
    expect(natsTlsFromConfig({ ...plain, natsTlsCaFile: "/ca.crt" })).toEqual({ caFile: "/ca.crt" });
    expect(
      natsTlsFromConfig({
        ...plain,
        natsTlsCaFile: "/ca.crt",
        natsTlsCertFile: "/vault.crt",
        natsTlsKeyFile: "/vault.key",
      }),
    ).toEqual({ caFile: "/ca.crt", certFile: "/vault.crt", keyFile: "/vault.key" });
  });

  it("refuses a certificate without its key, the reverse, and a certificate without a CA", () => {
    const problems = (config: Partial<BusConfig>) => {
      try {
        natsTlsFromConfig({ ...plain, ...config });
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ natsTlsCaFile: "/ca.crt", natsTlsCertFile: "/vault.crt" })).toEqual([
      "NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together",
    ]);
    expect(problems({ natsTlsCaFile: "/ca.crt", natsTlsKeyFile: "/vault.key" })).toHaveLength(1);
    expect(problems({ natsTlsCertFile: "/vault.crt", natsTlsKeyFile: "/vault.key" })[0]).toMatch(
      /NATS_TLS_CERT_FILE needs NATS_TLS_CA_FILE/,
    );
  });
});

describe("NATS_URL and AUDIT_STREAM_REPLICAS", () => {
  const parse = (environment: Record<string, string>) => {
    try {
      return parseConfig(busConfigFields, environment, busConfigChecks);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it("takes the servers of a cluster, comma-separated, as the README says", () => {
    expect(parse({ NATS_URL: "nats://n1:4222, nats://n2:4222,tls://n3:4222" })).toMatchObject({
      natsUrl: "nats://n1:4222,nats://n2:4222,tls://n3:4222",
      auditStreamReplicas: 1,
    });
    expect(parse({ NATS_URL: "nats://n1:4222,http://n2:80" })).toEqual([
      expect.stringMatching(/NATS_URL.*URL 2 \("http:\/\/n2:80"\) must use one of: nats, tls, ws, wss/),
    ]);
    expect(parse({ NATS_URL: "nats://n1:4222,,nats://n3:4222" })).toEqual([
      expect.stringMatching(/NATS_URL.*URL 2 \(""\) must be a URL/),
    ]);
  });

  it("keeps 1, 3 or 5 copies of the audit stream", () => {
    expect(parse({ AUDIT_STREAM_REPLICAS: "3" })).toMatchObject({ auditStreamReplicas: 3 });
    expect(parse({ AUDIT_STREAM_REPLICAS: "2" })).toEqual([expect.stringMatching(/must be 1, 3 or 5/)]);
    expect(parse({ AUDIT_STREAM_REPLICAS: "7" })).toEqual(
      expect.arrayContaining([expect.stringMatching(/AUDIT_STREAM_REPLICAS.*at most 5/)]),
    );
  });
});
