import { ConfigError } from "@secrets/config";
import { describe, expect, it } from "vitest";
import type { BusConfig } from "./config.ts";
import { natsTlsFromConfig } from "./config.ts";

const plain: BusConfig = {
  natsUrl: "nats://127.0.0.1:4222",
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
