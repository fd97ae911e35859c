/**
 * An in-memory gateway for the client's tests: the vault's rules (unknown token, pending token, stub on
 * first ask, pending access, missing value) behind the SDK's transport interface, with switches for an
 * outage and a record of every call.
 */
import { TokenStatus } from "@secrets/proto/secrets";
import type { BatchSecretResult, CallFailure, CallResult, SecretsTransport } from "../src/transport.ts";

type TokenState = "pending" | "approved" | "denied";

export interface FakeGateway {
  transport: SecretsTransport;
  /** Every call, in order, without tokens. */
  /** A GetSecrets call is recorded as one entry per secret it names. */
  calls: {
    rpc: "RegisterToken" | "GetSecret" | "GetSecrets";
    secretName?: string;
    description?: string;
    serviceName?: string;
  }[];
  /** Approves every token, those registered later included. */
  approveTokens(): void;
  /** Denies every token, those registered later included. */
  denyTokens(): void;
  /** Forgets every token, as a vault whose database was reset. */
  forgetTokens(): void;
  setValue(name: string, value: string): void;
  approveAccess(name: string): void;
  denyAccess(name: string): void;
  /** While set, every call fails with this (default UNAVAILABLE). */
  outage: CallFailure | undefined;
  /** Descriptions of the stubs created so far. */
  stubs: Map<string, string>;
  closed: boolean;
}

export const unavailable: CallFailure = {
  code: "UNAVAILABLE",
  details: "No connection established. Last error: connect ECONNREFUSED",
  reason: "",
  requestId: "",
};

const fail = (code: string, reason: string, details = `${code} ${reason}`): CallResult<never> => ({
  ok: false,
  failure: { code, details, reason, requestId: `req-${Math.random().toString(16).slice(2)}` },
});

export interface FakeGatewayOptions {
  /**
   * How the gateway answers GetSecrets: `true` (default) as the real one; `"unimplemented"` as a gateway
   * older than the RPC; `false` leaves it out of the transport altogether.
   */
  batch?: boolean | "unimplemented";
}

export function fakeGateway(options: FakeGatewayOptions = {}): FakeGateway {
  const tokens = new Map<string, { state: TokenState; serviceName: string }>();
  const secrets = new Map<string, string | undefined>();
  const access = new Map<string, "pending" | "granted" | "denied">();
  const stubs = new Map<string, string>();
  /** What a token registered from now on starts as. */
  let newTokens: TokenState = "pending";
  /** What GetSecret and GetSecrets answer for a token that is not approved; undefined for an approved one. */
  function tokenRefusal(token: string): CallResult<never> | undefined {
    const known = tokens.get(token);
    if (!known) return fail("UNAUTHENTICATED", "", "The service token is not registered");
    if (known.state === "pending") return fail("PERMISSION_DENIED", "TOKEN_PENDING_APPROVAL");
    if (known.state === "denied") return fail("PERMISSION_DENIED", "TOKEN_DENIED");
    return undefined;
  }

  /** The vault's rules for one secret, the token being approved. */
  function answer(secretName: string, description: string): CallResult<{ value: string }> {
    if (!secrets.has(secretName)) {
      secrets.set(secretName, undefined);
      stubs.set(secretName, description);
      access.set(secretName, "pending");
      return fail("NOT_FOUND", "SECRET_STUB_CREATED");
    }
    const accessStatus = access.get(secretName) ?? "pending";
    access.set(secretName, accessStatus);
    if (accessStatus === "pending") return fail("PERMISSION_DENIED", "ACCESS_PENDING");
    if (accessStatus === "denied") return fail("PERMISSION_DENIED", "ACCESS_DENIED");
    const value = secrets.get(secretName);
    if (value === undefined) return fail("FAILED_PRECONDITION", "SECRET_HAS_NO_VALUE");
    return { ok: true, response: { value }, requestId: "req" };
  }

  const gateway: FakeGateway = {
    calls: [],
    outage: undefined,
    stubs,
    closed: false,
    approveTokens: () => {
      newTokens = "approved";
      for (const entry of tokens.values()) entry.state = "approved";
    },
    denyTokens: () => {
      newTokens = "denied";
      for (const entry of tokens.values()) entry.state = "denied";
    },
    forgetTokens: () => {
      newTokens = "pending";
      tokens.clear();
    },
    setValue: (name, value) => {
      secrets.set(name, value);
    },
    approveAccess: (name) => {
      access.set(name, "granted");
    },
    denyAccess: (name) => {
      access.set(name, "denied");
    },
    transport: {
      async registerToken(request, token) {
        gateway.calls.push({ rpc: "RegisterToken", serviceName: request.serviceName });
        if (gateway.outage) return { ok: false, failure: gateway.outage };
        const known = tokens.get(token) ?? { state: newTokens, serviceName: request.serviceName };
        tokens.set(token, known);
        const status = {
          pending: TokenStatus.PENDING_APPROVAL,
          approved: TokenStatus.APPROVED,
          denied: TokenStatus.DENIED,
        };
        return {
          ok: true,
          response: { status: status[known.state], message: known.state },
          requestId: "req",
        };
      },
      async getSecret(request, token) {
        gateway.calls.push({
          rpc: "GetSecret",
          secretName: request.secretName,
          description: request.description,
        });
        if (gateway.outage) return { ok: false, failure: gateway.outage };
        const refused = tokenRefusal(token);
        if (refused) return refused;
        return answer(request.secretName, request.description);
      },
      ...(options.batch === false
        ? {}
        : {
            async getSecrets(request, token): Promise<CallResult<{ results: BatchSecretResult[] }>> {
              for (const secret of request.secrets)
                gateway.calls.push({
                  rpc: "GetSecrets",
                  secretName: secret.secretName,
                  description: secret.description,
                });
              if (options.batch === "unimplemented")
                return fail("UNIMPLEMENTED", "", "unknown method GetSecrets");
              if (gateway.outage) return { ok: false, failure: gateway.outage };
              const refused = tokenRefusal(token);
              if (refused) return refused;
              const results = request.secrets.map((secret): BatchSecretResult => {
                const outcome = answer(secret.secretName, secret.description);
                if (outcome.ok)
                  return { secretName: secret.secretName, ok: true, value: outcome.response.value };
                const { code, details, reason } = outcome.failure;
                return { secretName: secret.secretName, ok: false, failure: { code, details, reason } };
              });
              return { ok: true, response: { results }, requestId: "req" };
            },
          }),
      close() {
        gateway.closed = true;
      },
    },
  };
  return gateway;
}

/** A logger that keeps its lines. */
export function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    logger: {
      info: (message: string, fields: Record<string, unknown> = {}) =>
        lines.push({ level: "info", message, fields }),
      warn: (message: string, fields: Record<string, unknown> = {}) =>
        lines.push({ level: "warn", message, fields }),
    },
  };
}
