/**
 * TLS material for a NATS server that verifies its clients: a CA, a server certificate for localhost
 * and 127.0.0.1, and a client certificate, made with the `openssl` command line in a directory.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface NatsTlsMaterial {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The `tls` block of a nats-server configuration that requires TLS and a client certificate. */
  serverConfig: string;
}

function openssl(dir: string, ...args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.toString()}`);
}

/** A P-256 key and a certificate signed by the CA in `dir`, with the extensions in `extensions`. */
function signed(dir: string, name: string, subject: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  );
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    `${name}.crt`,
    "-extfile",
    `${name}.ext`,
  );
}

export function createNatsTlsMaterial(dir: string): NatsTlsMaterial {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=secrets-test-nats-ca",
  );
  signed(
    dir,
    "server",
    "/CN=localhost",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  signed(dir, "client", "/CN=secrets-service", "extendedKeyUsage=clientAuth\n");
  const file = (name: string) => join(dir, name);
  return {
    caFile: file("ca.crt"),
    serverCertFile: file("server.crt"),
    serverKeyFile: file("server.key"),
    clientCertFile: file("client.crt"),
    clientKeyFile: file("client.key"),
    serverConfig: [
      "tls {",
      `  cert_file: "${file("server.crt")}"`,
      `  key_file: "${file("server.key")}"`,
      `  ca_file: "${file("ca.crt")}"`,
      "  verify: true",
      "  timeout: 2",
      "}",
      "",
    ].join("\n"),
  };
}
