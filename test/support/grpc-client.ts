/**
 * A plain grpc-js client of `secrets.v1.SecretsService` (no SDK), with promise-returning calls that
 * report the status, the `secrets-reason` trailer and the request id.
 */
import { readFileSync } from "node:fs";
import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import {
  type GetSecretResponse,
  type GetSecretsResponse,
  type RegisterTokenResponse,
  SecretsServiceClient,
} from "@secrets/proto/secrets";

export interface CallOutcome<T> {
  ok: boolean;
  response?: T;
  /** gRPC status name, such as "OK", "NOT_FOUND" or "UNAVAILABLE". */
  code: string;
  details: string;
  /** The `secrets-reason` trailer, empty when absent. */
  reason: string;
  requestId: string;
}

function outcome<T>(
  error: ServiceError | null,
  response: T | undefined,
  trailers: Metadata | undefined,
): CallOutcome<T> {
  const meta = error?.metadata ?? trailers;
  const first = (key: string) => String(meta?.get(key)[0] ?? "");
  if (error) {
    return {
      ok: false,
      code: status[error.code] ?? String(error.code),
      details: error.details,
      reason: first("secrets-reason"),
      requestId: first("secrets-request-id"),
    };
  }
  return { ok: true, response, code: "OK", details: "", reason: "", requestId: first("secrets-request-id") };
}

/** Connects over TLS trusting `caFile` (or plaintext when `caFile` is undefined). */
export function secretsClient(address: string, caFile: string | undefined) {
  const channel = caFile ? credentials.createSsl(readFileSync(caFile)) : credentials.createInsecure();
  const client = new SecretsServiceClient(address, channel);

  /** Resolves once both the callback and the status (with its trailers) have arrived. */
  function settle<Res>(
    start: (
      metadata: Metadata,
      options: { deadline: Date },
      callback: (error: ServiceError | null, response?: Res) => void,
    ) => { on(event: "status", listener: (s: { metadata: Metadata }) => void): unknown },
    token: string | undefined,
    deadlineMs: number,
  ): Promise<CallOutcome<Res>> {
    const metadata = new Metadata();
    if (token) metadata.set("authorization", `Bearer ${token}`);
    return new Promise((resolve) => {
      let trailers: Metadata | undefined;
      let result: { error: ServiceError | null; response?: Res | undefined } | undefined;
      const finish = () => {
        if (result && trailers) resolve(outcome(result.error, result.response, trailers));
      };
      const call = start(metadata, { deadline: new Date(Date.now() + deadlineMs) }, (error, response) => {
        result = { error, response };
        finish();
      });
      call.on("status", (s) => {
        trailers = s.metadata;
        finish();
      });
    });
  }

  return {
    /** GetSecret with the token in the `authorization` metadata. */
    getSecret: (
      secretName: string,
      token: string,
      options: { description?: string; deadlineMs?: number } = {},
    ) =>
      settle<GetSecretResponse>(
        (metadata, callOptions, callback) =>
          client.getSecret(
            { secretName, description: options.description ?? "", token: "" },
            metadata,
            callOptions,
            callback,
          ),
        token,
        options.deadlineMs ?? 10_000,
      ),
    /** GetSecrets: one result per secret (value, or the code and reason GetSecret would have failed with). */
    getSecrets: (
      secrets: { secretName: string; description?: string }[],
      token: string,
      options: { deadlineMs?: number } = {},
    ) =>
      settle<GetSecretsResponse>(
        (metadata, callOptions, callback) =>
          client.getSecrets(
            {
              secrets: secrets.map((s) => ({ secretName: s.secretName, description: s.description ?? "" })),
              token: "",
            },
            metadata,
            callOptions,
            callback,
          ),
        token,
        options.deadlineMs ?? 30_000,
      ),
    registerToken: (serviceName: string, token: string, serviceVersion = "1.0.0") =>
      settle<RegisterTokenResponse>(
        (metadata, callOptions, callback) =>
          client.registerToken({ serviceName, serviceVersion, token }, metadata, callOptions, callback),
        undefined,
        10_000,
      ),
    close: () => client.close(),
  };
}
