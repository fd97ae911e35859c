/**
 * The pending queues under a flood, on the real stack (vault, gateway, admin API serving the built
 * dashboard, real NATS and PostgreSQL) with plain grpc-js services: one approved service asks for 500 new
 * names at once and gets only its limit of stubs, the rest refused with PENDING_LIMIT_REACHED; real
 * requests still reach the admin, who pages through all 250 pending requests in Chromium, sees which
 * queues are full, and tells a second token of a service apart by its fingerprint and client address.
 * axe-core finds no WCAG 2.1 AA violation in these views at desktop and phone widths.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminHttpClient, adminHttpClient } from "../support/admin-http.ts";
import { axeViolations } from "../support/axe.ts";
import { launchChromium, type PageGlobals, screenshot, viewports } from "../support/browser.ts";
import { ensureDashboardBuilt } from "../support/dashboard-build.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const bootstrapToken = `ssadm_${randomBytes(32).toString("base64url")}`;
/** MAX_PENDING_REQUESTS_PER_SERVICE for this stack. */
const requestLimit = 200;
const flooderToken = newServiceToken();
const flooderSecondToken = newServiceToken();
const steadyToken = newServiceToken();
const steadyNames = Array.from({ length: 50 }, (_, i) => `STEADY_${String(i).padStart(2, "0")}`);

let stack: Stack;
let grpc: ReturnType<typeof secretsClient>;
let admin: ReturnType<AdminHttpClient["as"]>;
let baseUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureDashboardBuilt();
  stack = await createStack();
  await stack.startVault({
    ADMIN_BOOTSTRAP_TOKEN: bootstrapToken,
    ADMIN_BOOTSTRAP_NAME: "root",
    MAX_PENDING_REQUESTS_PER_SERVICE: String(requestLimit),
  });
  const gateway = await stack.startGateway({ RATE_LIMIT_REGISTER_PER_MINUTE: "1000" });
  const adminApi = await stack.startAdminApi({ ADMIN_VAULT_TIMEOUT_MS: "10000" });
  baseUrl = adminApi.url;
  admin = adminHttpClient(baseUrl).as({ token: bootstrapToken });
  grpc = secretsClient(gateway.address, gateway.caFile);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: viewports.desktop })).newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  grpc?.close();
  await stack?.dispose();
});

interface TokenRow {
  id: string;
  serviceName: string;
  fingerprint: string;
  clientAddress: string | null;
}

async function pendingTokens(): Promise<TokenRow[]> {
  return (await admin.listServiceTokens("pending")).json.serviceTokens as TokenRow[];
}

async function registerAndApprove(serviceName: string, token: string): Promise<void> {
  expect((await grpc.registerToken(serviceName, token)).ok).toBe(true);
  const row = (await pendingTokens()).find((t) => t.serviceName === serviceName);
  expect((await admin.approveToken(row?.id ?? "")).status).toBe(200);
}

async function go(view: "missing" | "approvals"): Promise<void> {
  await page.locator(`nav[aria-label=Dashboard] a[href="#/${view}"]`).click();
  await page.waitForFunction((v) => (globalThis as unknown as PageGlobals).location.hash === `#/${v}`, view);
  await page.locator("main h1").waitFor();
}

/** No WCAG 2.1 AA violation in the view at desktop and phone widths. */
async function expectAccessible(name: string, include?: string): Promise<void> {
  for (const [width, viewport] of Object.entries(viewports)) {
    await page.setViewportSize(viewport);
    await screenshot(page, `limits-${name}-${width}`);
    expect(await axeViolations(page, include), `${name} at ${viewport.width} px`).toEqual([]);
  }
  await page.setViewportSize(viewports.desktop);
}

/** Every row's `attribute` across all pages of a paged card, following Next until it is disabled. */
async function collectPages(card: string, attribute: string): Promise<{ values: string[]; pages: number }> {
  const values: string[] = [];
  let pages = 0;
  for (;;) {
    pages++;
    const expected = `Page ${pages}`;
    // The page number changes at once; its rows once they arrive (the pager is busy until then).
    await page.waitForFunction(
      ({ card, expected }) => {
        const { document } = globalThis as unknown as PageGlobals;
        const range = document.querySelector(`${card} [data-testid=pager-range]`);
        const busy = document.querySelector(`${card} nav[aria-busy=true]`);
        return busy === null && (range?.textContent?.trim().startsWith(`${expected} ·`) ?? false);
      },
      { card, expected },
    );
    const rows = await page
      .locator(`${card} tbody tr`)
      .evaluateAll(
        (elements, name) => elements.map((element) => element.getAttribute(name) ?? ""),
        attribute,
      );
    values.push(...rows);
    const next = page.locator(`${card} nav button`, { hasText: "Next" });
    if (await next.isDisabled()) break;
    await next.click();
  }
  return { values, pages };
}

describe("a flood of new names through the gateway", () => {
  it("records at most the limit of 500 names asked for at once, and refuses the rest with a reason", async () => {
    await registerAndApprove("flooder", flooderToken);
    const batches = Array.from({ length: 5 }, (_, batch) =>
      Array.from({ length: 100 }, (_, i) => ({ secretName: `JUNK_${batch}_${i}`, description: "junk" })),
    );
    const replies = await Promise.all(batches.map((batch) => grpc.getSecrets(batch, flooderToken)));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    const results = replies.flatMap((reply) => reply.response?.results ?? []);
    expect(results).toHaveLength(500);
    const reasons = results.map((result) => result.reason);
    expect(reasons.filter((r) => r === "SECRET_STUB_CREATED")).toHaveLength(requestLimit);
    expect(reasons.filter((r) => r === "PENDING_LIMIT_REACHED")).toHaveLength(500 - requestLimit);
    const refused = results.find((result) => result.reason === "PENDING_LIMIT_REACHED");
    expect(refused).toMatchObject({ success: false, code: 8 }); // RESOURCE_EXHAUSTED
    expect(refused?.errorMessage).toContain(
      `already has ${requestLimit} access requests waiting for an admin, its limit of ${requestLimit} (MAX_PENDING_REQUESTS_PER_SERVICE)`,
    );

    const listed = await admin.listAccessRequests("pending");
    expect(listed.json.pendingLimitsReached).toEqual([
      { serviceName: "flooder", clientAddress: null, pending: requestLimit, limit: requestLimit },
    ]);

    // Another service's real requests are still recorded.
    await registerAndApprove("steady", steadyToken);
    const steady = await grpc.getSecrets(
      steadyNames.map((secretName) => ({ secretName })),
      steadyToken,
    );
    expect(steady.response?.results.every((r) => r.reason === "SECRET_STUB_CREATED")).toBe(true);
  }, 60_000);
});

describe("the dashboard under the flood", () => {
  it("pages through all 250 pending access requests and says which service is at its limit", async () => {
    await page.goto(baseUrl);
    const field = page.locator("#admin-token");
    await field.fill(bootstrapToken);
    await field.press("Enter");
    await page.locator("nav[aria-label=Dashboard]").waitFor({ timeout: 15_000 });
    await go("approvals");

    const notice = page.locator("[data-testid=pending-access] [data-testid=pending-limit-requests]");
    await expect
      .poll(async () => (await notice.textContent())?.replace(/\s+/g, " ").trim(), { timeout: 15_000 })
      .toBe(
        `flooder reached the limit of ${requestLimit} pending requests; further requests are refused until you decide some.`,
      );
    await expectAccessible("approvals");

    const { values, pages } = await collectPages("[data-testid=pending-access]", "data-secret");
    expect(pages).toBe(5);
    expect(values).toHaveLength(250);
    expect(new Set(values).size).toBe(250);
    for (const name of steadyNames) expect(values).toContain(name);

    await go("missing");
    await page.locator("[data-testid=pending-limit-requests]").waitFor();
    const missing = await collectPages("main .card", "data-secret");
    expect(missing.values).toHaveLength(250);
    expect(new Set(missing.values).size).toBe(250);
    await page.locator("main .card nav button", { hasText: "Previous" }).click();
    await expectAccessible("missing");
  }, 120_000);

  it("shows a second token's fingerprint and client address before it inherits the service's granted access", async () => {
    // flooder holds a granted access request, so approving another of its tokens hands that access over: the dialog asks.
    expect((await admin.putSecret({ name: "FLOODER_DB", value: "x" })).status).toBe(201);
    expect((await admin.grantAccess("FLOODER_DB", "flooder")).status).toBe(201);
    expect((await grpc.registerToken("flooder", flooderSecondToken, "2.0.0")).ok).toBe(true);
    const fingerprint = createHash("sha256").update(flooderSecondToken).digest("hex").slice(0, 8);
    const row = (await pendingTokens()).find((t) => t.fingerprint === fingerprint);
    expect(row).toMatchObject({ serviceName: "flooder", clientAddress: expect.stringMatching(/\S/) });
    // Three more tokens of one name fill its queue; the fourth is refused and the dashboard says so.
    for (let i = 0; i < 3; i++)
      expect((await grpc.registerToken("payments", newServiceToken())).ok).toBe(true);
    expect(await grpc.registerToken("payments", newServiceToken())).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "PENDING_LIMIT_REACHED",
    });

    await go("approvals");
    const tokenNotice = page.locator("[data-testid=pending-tokens] [data-testid=pending-limit-tokens]");
    await expect
      .poll(async () => (await tokenNotice.textContent())?.replace(/\s+/g, " ").trim(), { timeout: 15_000 })
      .toBe(
        "payments reached the limit of 3 pending tokens; further registrations of this name are refused until you decide some.",
      );
    const tokenRow = page.locator(`[data-testid=pending-tokens] tr[data-token="${row?.id}"]`);
    await expect
      .poll(() => tokenRow.locator("[data-testid=token-fingerprint]").textContent())
      .toBe(fingerprint);
    await tokenRow.getByRole("button", { name: "Approve token of flooder" }).click();
    const dialog = page.locator("dialog[open]");
    await dialog.waitFor();
    expect(await dialog.locator("[data-testid=dialog-fingerprint]").textContent()).toBe(fingerprint);
    expect(await dialog.locator("[data-testid=dialog-client-address]").textContent()).toBe(
      row?.clientAddress,
    );
    expect(await dialog.textContent()).toContain(`token fingerprint ${fingerprint}…`);
    await expectAccessible("approve-dialog", "dialog[open]");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.locator("dialog[open]").waitFor({ state: "detached" });
  }, 60_000);
});
