import { status } from "@grpc/grpc-js";
import {
  BusError,
  ErrorCode,
  forwardToken,
  Reason,
  serve,
  serviceOperations,
  vaultQueue,
} from "@secrets/bus";
import type { GetSecretsRequest, GetSecretsResponse } from "@secrets/proto/secrets";
import type { VaultGetSecretsReply, VaultGetSecretsRequest } from "@secrets/proto/vault";
import { afterEach, describe, expect, it } from "vitest";
import { type CallOptionsForTest, call, type Harness, startGateway, text } from "../test/harness.ts";

const token = "tok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function getSecrets(h: Harness, request: GetSecretsRequest, options?: CallOptionsForTest) {
  return call<GetSecretsResponse>((md, o, cb) => h.client.getSecrets(request, md, o, cb), options);
}

function fakeVault(h: Harness, answer: (request: VaultGetSecretsRequest) => Promise<VaultGetSecretsReply>) {
  const seen: VaultGetSecretsRequest[] = [];
  serve(h.bus, serviceOperations.getSecrets, { queue: vaultQueue }, (request) => {
    seen.push(request);
    return answer(request);
  });
  return seen;
}

const busError = (code: ErrorCode, message: string, reason = Reason.UNSPECIFIED) => ({
  code,
  message,
  reason,
  violations: [],
});

describe("GetSecrets", () => {
  it("forwards the secrets with the token's hash, and maps each outcome as GetSecret would", async () => {
    harness = await startGateway();
    const seen = fakeVault(harness, async () => ({
      results: [
        { secretName: "DB_URL", value: "postgres://x" },
        {
          secretName: "MISSING",
          value: "",
          error: busError(ErrorCode.NOT_FOUND, "Secret MISSING does not exist", Reason.SECRET_STUB_CREATED),
        },
        { secretName: "BROKEN", value: "", error: busError(ErrorCode.INTERNAL, "The vault failed") },
      ],
    }));
    const result = await getSecrets(
      harness,
      {
        secrets: [
          { secretName: "DB_URL", description: "database" },
          { secretName: "MISSING", description: "" },
          { secretName: "BROKEN", description: "" },
        ],
        token: "",
      },
      { metadata: { authorization: `Bearer ${token}` } },
    );
    expect(result.error).toBeUndefined();
    expect(seen[0]).toMatchObject({
      secrets: [
        { secretName: "DB_URL", description: "database" },
        { secretName: "MISSING", description: "" },
        { secretName: "BROKEN", description: "" },
      ],
      token: forwardToken(token),
    });
    const requestId = text(result.initial, "secrets-request-id");
    expect(result.response?.results).toEqual([
      { secretName: "DB_URL", value: "postgres://x", success: true, code: 0, reason: "", errorMessage: "" },
      {
        secretName: "MISSING",
        value: "",
        success: false,
        code: status.NOT_FOUND,
        reason: "SECRET_STUB_CREATED",
        errorMessage: "Secret MISSING does not exist",
      },
      {
        secretName: "BROKEN",
        value: "",
        success: false,
        code: status.INTERNAL,
        reason: "",
        errorMessage: `The gateway could not handle the request (request id ${requestId}); its log has the details`,
      },
    ]);
    expect(harness.lines.some((line) => line.msg === "GetSecrets: one secret failed")).toBe(true);
  });

  it("refuses invalid input before the bus, naming each field", async () => {
    harness = await startGateway();
    const seen = fakeVault(harness, async () => ({ results: [] }));
    const result = await getSecrets(harness, {
      secrets: [
        { secretName: "TWICE", description: "" },
        { secretName: "TWICE", description: "" },
      ],
      token,
    });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(result.error?.details).toContain("secrets[1].secret_name");
    expect(seen).toHaveLength(0);
  });

  it("fails the whole call with the vault's refusal of the token", async () => {
    harness = await startGateway();
    fakeVault(harness, async () => {
      throw new BusError(ErrorCode.PERMISSION_DENIED, "The token was revoked", {
        reason: Reason.TOKEN_DENIED,
      });
    });
    const denied = await getSecrets(harness, { secrets: [{ secretName: "A", description: "" }], token });
    expect(denied.error?.code).toBe(status.PERMISSION_DENIED);
    expect(text(denied.trailers, "secrets-reason")).toBe("TOKEN_DENIED");
  });

  it("counts an unknown token against the peer's failed-authentication budget", async () => {
    harness = await startGateway({ rateLimits: { registerPerMinute: 100, authFailuresPerMinute: 1 } });
    fakeVault(harness, async () => {
      throw new BusError(ErrorCode.UNAUTHENTICATED, "The service token is not registered");
    });
    const request = { secrets: [{ secretName: "A", description: "" }], token };
    expect((await getSecrets(harness, request)).error?.code).toBe(status.UNAUTHENTICATED);
    const limited = await getSecrets(harness, request);
    expect(limited.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(text(limited.trailers, "secrets-reason")).toBe("RATE_LIMITED");
  });
});
