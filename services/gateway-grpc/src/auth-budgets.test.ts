import { createHash } from "node:crypto";
import type { ThrottleBudget } from "@secrets/bus";
import { BusError, ErrorCode, Reason } from "@secrets/bus";
import { RateLimiter } from "@secrets/validation";
import { describe, expect, it } from "vitest";
import { manualClock } from "../test/harness.ts";
import type { ApprovedTokens } from "./approved-tokens.ts";
import { createAuthBudgets, verdictOf } from "./auth-budgets.ts";

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

function budgets(options: { tokenRefusals?: number; unknownTokens?: number; approved?: string[] } = {}) {
  const clock = manualClock();
  const approvedHashes = new Set((options.approved ?? []).map(hash));
  const approved: ApprovedTokens = {
    has: (tokenHash) => approvedHashes.has(tokenHash),
    learn: (tokenHash) => approvedHashes.add(tokenHash),
    forget: (tokenHash) => approvedHashes.delete(tokenHash),
  };
  const throttled: { method: string; budget: ThrottleBudget; tokenHash: string; address: string }[] = [];
  const subject = createAuthBudgets({
    approved,
    throttled: {
      count: (method, budget, tokenHash, address) => throttled.push({ method, budget, tokenHash, address }),
    },
    tokenRefusals: new RateLimiter({ perMinute: options.tokenRefusals ?? 10, now: clock.now }),
    unknownTokens: new RateLimiter({ perMinute: options.unknownTokens ?? 20, now: clock.now }),
  });
  return { subject, throttled, clock, approvedHashes };
}

const refusal = (take: () => unknown) => {
  try {
    take();
  } catch (error) {
    return error as BusError;
  }
  return undefined;
};

describe("authentication budgets", () => {
  it("lets at most the address budget of concurrent unknown tokens through, then still admits an approved token", () => {
    const { subject, throttled } = budgets({ unknownTokens: 20, approved: ["approved-token"] });
    const holds = [];
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      try {
        holds.push(subject.take("GetSecret", `bad-${i}`, "10.0.0.1"));
      } catch (error) {
        expect(error).toBeInstanceOf(BusError);
        expect((error as BusError).code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
        expect((error as BusError).reason).toBe(Reason.RATE_LIMITED);
        refused++;
      }
    }
    // Taken before the vault answers: concurrency cannot walk through the budget.
    expect(holds).toHaveLength(20);
    expect(refused).toBe(80);
    expect(throttled.filter((entry) => entry.budget === "address")).toHaveLength(80);
    for (const hold of holds) hold.settle("unknown");
    expect(refusal(() => subject.take("GetSecret", "approved-token", "10.0.0.1"))).toBeUndefined();
    // Another address is untouched.
    expect(refusal(() => subject.take("GetSecret", "bad-x", "10.0.0.2"))).toBeUndefined();
  });

  it("refunds the address budget for a known token and both for an approved one", () => {
    const { subject, approvedHashes } = budgets({ unknownTokens: 1, tokenRefusals: 5 });
    subject.take("GetSecret", "pending-token", "10.0.0.1").settle("refused");
    subject.take("GetSecret", "new-approved", "10.0.0.1").settle("approved");
    // The address budget of 1 is still whole: neither call was an unknown token.
    subject.take("GetSecret", "unknown-token", "10.0.0.1").settle("unknown");
    expect(refusal(() => subject.take("GetSecret", "another-unknown", "10.0.0.1"))?.message).toMatch(
      /Too many unregistered tokens from this address; try again in 60 s/,
    );
    // The approved token was learnt: it no longer needs any budget.
    expect(approvedHashes.has(hash("new-approved"))).toBe(true);
    expect(refusal(() => subject.take("GetSecret", "new-approved", "10.0.0.1"))).toBeUndefined();
  });

  it("throttles a pending token after its own budget, however many addresses it uses", () => {
    const { subject, throttled, clock } = budgets({ tokenRefusals: 10, unknownTokens: 1_000 });
    const outcomes = [];
    for (let i = 0; i < 80; i++) {
      const error = refusal(() => subject.take("GetSecret", "pending", `10.0.${i}.1`).settle("refused"));
      outcomes.push(error === undefined ? "vault" : "throttled");
    }
    expect(outcomes.filter((outcome) => outcome === "vault")).toHaveLength(10);
    expect(throttled).toHaveLength(70);
    expect(throttled.every((entry) => entry.budget === "token" && entry.tokenHash === hash("pending"))).toBe(
      true,
    );
    clock.advance(6_000); // one refusal's worth at 10 per minute
    expect(refusal(() => subject.take("GetSecret", "pending", "10.0.0.1"))).toBeUndefined();
  });

  it("gives everything back when the vault gave no verdict", () => {
    const { subject } = budgets({ tokenRefusals: 1, unknownTokens: 1 });
    for (let i = 0; i < 5; i++) subject.take("GetSecret", "token", "10.0.0.1").settle("none");
    expect(refusal(() => subject.take("GetSecret", "token", "10.0.0.1"))).toBeUndefined();
  });

  it("keys IPv6 clients by their /64", () => {
    const { subject } = budgets({ unknownTokens: 2 });
    subject.take("GetSecret", "a", "2001:db8:1:2::1").settle("unknown");
    subject.take("GetSecret", "b", "2001:db8:1:2:ffff::9").settle("unknown");
    expect(refusal(() => subject.take("GetSecret", "c", "2001:db8:1:2:abcd:1:2:3"))?.code).toBe(
      ErrorCode.RESOURCE_EXHAUSTED,
    );
    expect(refusal(() => subject.take("GetSecret", "d", "2001:db8:1:3::1"))).toBeUndefined();
  });

  it("forgets a stale approved key when the vault refuses the token, and counts the refusal", () => {
    const { subject, approvedHashes } = budgets({ approved: ["revoked"], tokenRefusals: 1 });
    subject.take("GetSecret", "revoked", "10.0.0.1").settle("refused");
    expect(approvedHashes.has(hash("revoked"))).toBe(false);
    expect(refusal(() => subject.take("GetSecret", "revoked", "10.0.0.1"))?.message).toMatch(
      /This token was refused too often/,
    );
  });
});

describe("verdictOf", () => {
  it("reads the token's status from the vault's answer", () => {
    const error = (code: ErrorCode, reason = Reason.UNSPECIFIED) => new BusError(code, "x", { reason });
    expect(verdictOf(undefined)).toBe("approved");
    expect(verdictOf(error(ErrorCode.UNAUTHENTICATED))).toBe("unknown");
    expect(verdictOf(error(ErrorCode.PERMISSION_DENIED, Reason.TOKEN_PENDING_APPROVAL))).toBe("refused");
    expect(verdictOf(error(ErrorCode.PERMISSION_DENIED, Reason.TOKEN_DENIED))).toBe("refused");
    expect(verdictOf(error(ErrorCode.PERMISSION_DENIED, Reason.ACCESS_PENDING))).toBe("approved");
    expect(verdictOf(error(ErrorCode.NOT_FOUND, Reason.SECRET_STUB_CREATED))).toBe("approved");
    expect(verdictOf(error(ErrorCode.UNAVAILABLE))).toBe("none");
    expect(verdictOf(new Error("timeout"))).toBe("none");
  });
});
