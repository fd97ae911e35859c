/**
 * The dashboard in real Chromium against the real stack: the admin API serving the built dashboard, the
 * vault, a gateway and the audit service shipping to a Loki stand-in, on real NATS and PostgreSQL. Services
 * are plain grpc-js clients. An admin signs in, sees a stub appear as a service asks for it, fills it,
 * approves tokens and access, edits, rolls a secret back to an earlier version, meets a check-and-set
 * conflict, deletes, revokes, reads the audit trail, rotates the encryption key, and is sent back to the
 * login page when the session ends elsewhere. No response the browser saw and nothing in its DOM holds a
 * value. Screenshots of every view go to `.artifacts/screenshots/`.
 */
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as rules from "../../packages/validation/src/index.ts";
import { openDatabase } from "../../services/vault/src/db/connection.ts";
import { loadOrCreateKeyring } from "../../services/vault/src/keyring/index.ts";
import { seedSecrets } from "../../services/vault/src/rotation/seed-secrets.ts";
import * as mirrored from "../../web/src/validation.ts";
import { adminHttpClient } from "../support/admin-http.ts";
import {
  hasHorizontalOverflow,
  launchChromium,
  type PageGlobals,
  recordResponses,
  screenshot,
  viewports,
} from "../support/browser.ts";
import { ensureDashboardBuilt } from "../support/dashboard-build.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { type LokiReceiver, startLokiReceiver } from "../support/loki-receiver.ts";
import { repoRoot } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const bootstrapToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const ordersToken = newServiceToken();
const ordersSecondToken = newServiceToken();
const secretValue = `orders-db-${crypto.randomUUID()}`;
const billingValue = `billing-${crypto.randomUUID()}`;
const keyboardValue = `keyboard-${crypto.randomUUID()}`;
/** ORDERS_DB_PASSWORD's later values: two edits, then one typed while someone else changed it. */
const secondValue = `orders-db-v2-${crypto.randomUUID()}`;
const thirdValue = `orders-db-v3-${crypto.randomUUID()}`;
const typedInConflict = `orders-db-typed-${crypto.randomUUID()}`;
const concurrentValue = `orders-db-elsewhere-${crypto.randomUUID()}`;
const values = [
  secretValue,
  billingValue,
  keyboardValue,
  secondValue,
  thirdValue,
  typedInConflict,
  concurrentValue,
];

let stack: Stack;
let loki: LokiReceiver;
let grpc: ReturnType<typeof secretsClient>;
let baseUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let responses: ReturnType<typeof recordResponses>;
let documentResponse: { headers: Record<string, string> } | undefined;

/** Figures printed at the end (no timing assertions). */
const figures: Record<string, string | number> = {};

beforeAll(async () => {
  const build = await ensureDashboardBuilt();
  figures["dashboard build"] = build.built ? `${build.durationMs} ms` : "up to date";
  stack = await createStack();
  loki = await startLokiReceiver();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: bootstrapToken, ADMIN_BOOTSTRAP_NAME: "root" });
  const gateway = await stack.startGateway();
  await stack.startAudit({ LOKI_URL: loki.url, AUDIT_ENV: "e2e", AUDIT_BATCH_MAX: "200" });
  const adminApi = await stack.startAdminApi({
    ADMIN_AUTH_CACHE_MS: "500",
    ADMIN_LOGIN_RATE_PER_MINUTE: "60",
    ADMIN_VAULT_TIMEOUT_MS: "10000",
  });
  baseUrl = adminApi.url;
  grpc = secretsClient(gateway.address, gateway.caFile);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: viewports.desktop });
  page = await context.newPage();
  responses = recordResponses(page);
}, 180_000);

afterAll(async () => {
  if (Object.keys(figures).length > 0) console.log("dashboard figures:", figures);
  await browser?.close();
  grpc?.close();
  await stack?.dispose();
  await loki?.stop();
});

// ---------- helpers ----------

/** `bun run admin:token …` against the stack's database, as an operator runs it. */
async function adminTokenCli(...args: string[]): Promise<string> {
  const child = Bun.spawn(["bun", "services/vault/src/cli/admin-token.ts", ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DATABASE_URL: stack.databaseUrl,
      SECRETS_DATA_DIR: stack.tempDir("cli-"),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`admin:token ${args.join(" ")} failed: ${err}`);
  return out;
}

async function signIn(target: Page, token: string): Promise<void> {
  const field = target.locator("#admin-token");
  await field.waitFor();
  await field.fill(token);
  await field.press("Enter");
  await target.locator("nav[aria-label=Dashboard]").waitFor({ timeout: 15_000 });
}

async function go(view: "secrets" | "missing" | "approvals" | "tokens" | "audit" | "keys"): Promise<void> {
  await page.locator(`nav[aria-label=Dashboard] a[href="#/${view}"]`).click();
  await page.waitForFunction((v) => (globalThis as unknown as PageGlobals).location.hash === `#/${v}`, view);
  await page.locator("main h1").waitFor();
}

/** Waits until the locator matches exactly `count` elements. */
async function expectCount(selector: string, count: number, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, count }) =>
      (globalThis as unknown as PageGlobals).document.querySelectorAll(selector).length === count,
    { selector, count },
    { timeout },
  );
}

async function dialog(): Promise<ReturnType<Page["locator"]>> {
  const open = page.locator("dialog[open]");
  await open.waitFor();
  return open;
}

async function dialogClosed(): Promise<void> {
  await page.locator("dialog[open]").waitFor({ state: "detached" });
}

/** The open dialog with this title, when another may be open under it. */
async function dialogNamed(title: string): Promise<ReturnType<Page["locator"]>> {
  const open = page.locator("dialog[open]", { has: page.getByRole("heading", { name: title, exact: true }) });
  await open.waitFor();
  return open;
}

/** The admin API as another admin (or a script) uses it meanwhile: Bearer token, no browser. */
function otherAdmin() {
  return adminHttpClient(baseUrl).as({ token: bootstrapToken });
}

/** Everything the page shows now plus every response body it has received: none may hold a value. */
async function expectNoValueAnywhere(): Promise<void> {
  const html = await page.content();
  const bodies = await responses.settled();
  expect(bodies.length).toBeGreaterThan(10);
  for (const value of values) {
    expect(html).not.toContain(value);
    for (const response of bodies) expect(response.body, response.url).not.toContain(value);
  }
}

async function expectNoOverflow(name: string): Promise<void> {
  expect(await hasHorizontalOverflow(page), `${name} overflows sideways`).toBe(false);
}

async function focusedText(target: Page = page): Promise<string> {
  return target.evaluate(() => {
    const element = (globalThis as unknown as PageGlobals).document.activeElement;
    return `${element?.tagName ?? ""}:${element?.getAttribute("aria-label") ?? element?.textContent?.trim() ?? ""}`;
  });
}

/** Presses Tab until the focused element's text or label matches, at most `limit` times. */
async function tabTo(pattern: RegExp, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (pattern.test(await focusedText())) return;
  }
  throw new Error(`Tab never reached ${pattern}; focus is on ${await focusedText()}`);
}

// ---------- the specs ----------

describe("the dashboard's validation", () => {
  it("mirrors the API's rules for names, descriptions and values", () => {
    const names = [
      "",
      "A",
      "STRIPE_KEY",
      "lower",
      "1ABC",
      "A-B",
      `A${"B".repeat(127)}`,
      `A${"B".repeat(128)}`,
    ];
    for (const name of names) {
      expect(mirrored.nameProblem(name) === undefined, name).toBe(rules.checkSecretName(name).length === 0);
    }
    const descriptions = ["", "x".repeat(1024), "é".repeat(513), "tab\tand\nnewline", "bell\u0007"];
    for (const text of descriptions) {
      expect(mirrored.descriptionProblem(text) === undefined).toBe(rules.checkDescription(text).length === 0);
    }
    const valuesToCheck = ["", "v".repeat(64 * 1024), "€".repeat(21_846), "nul\u0000"];
    for (const value of valuesToCheck) {
      expect(mirrored.valueProblem(value) === undefined).toBe(rules.checkValue(value).length === 0);
    }
    expect(mirrored.secretNamePattern.source).toBe(rules.secretNamePattern.source);
  });
});

describe("the dashboard in Chromium", { timeout: 60_000 }, () => {
  it("is served at / under a CSP of 'self', and signs in with the keyboard", async () => {
    const response = await page.goto(baseUrl);
    documentResponse = { headers: response?.headers() ?? {} };
    expect(response?.status()).toBe(200);
    const csp = documentResponse.headers["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain("unsafe");
    const field = page.locator("#admin-token");
    await field.waitFor();
    await screenshot(page, "login-desktop");
    // The token field has focus on arrival; Tab reaches the button, Enter signs in.
    expect(await focusedText()).toMatch(/^INPUT/);
    await page.keyboard.type("ssadm_not-a-real-token");
    await page.keyboard.press("Tab");
    expect(await focusedText()).toBe("BUTTON:Sign in");
    await page.keyboard.press("Enter");
    await page.getByText("That admin token is not valid").waitFor();
    expect(await field.inputValue()).toBe("");
    await screenshot(page, "login-error-desktop");

    await field.focus();
    await page.keyboard.type(bootstrapToken);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.locator("nav[aria-label=Dashboard]").waitFor();
    await page.getByRole("heading", { name: "Secrets", level: 1 }).waitFor();
    await page.getByText("No secrets yet").waitFor();
    // The token is kept nowhere scripts can read; the session cookie is HttpOnly.
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as PageGlobals;
      return {
        local: JSON.stringify({ ...localStorage }),
        session: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
      };
    });
    expect(stored).toEqual({ local: "{}", session: "{}", cookie: "" });
    expect(await page.content()).not.toContain(bootstrapToken);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "secrets_session")).toMatchObject({
      httpOnly: true,
      sameSite: "Strict",
    });
    await screenshot(page, "secrets-empty-desktop");
  });

  it("counts a registering token in the navigation and approves it", async () => {
    expect((await grpc.registerToken("orders", ordersToken, "2.1.0")).ok).toBe(true);
    // Polled: the count appears without a reload.
    await page.locator("[data-testid=count-approvals]").waitFor({ timeout: 15_000 });
    expect(((await page.locator("[data-testid=count-approvals]").textContent()) ?? "").trim()).toMatch(
      /^1(?!\d)/,
    );
    await go("approvals");
    const row = page.locator("[data-testid=pending-tokens] tr[data-service=orders]");
    await row.waitFor();
    expect(await row.textContent()).toContain("2.1.0");
    await screenshot(page, "approvals-token-desktop");
    await row.getByRole("button", { name: "Approve token of orders" }).click();
    await row.waitFor({ state: "detached" });
    await page.getByText("No tokens waiting").waitFor();
  });

  it("shows a stub as soon as a service asks for a missing secret, and fills it through “Add value”", async () => {
    await go("missing");
    await page.getByText("Nothing is missing").waitFor();
    await screenshot(page, "missing-empty-desktop");
    const asked = await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken, {
      description: "Password of the orders database",
    });
    expect(asked).toMatchObject({ code: "NOT_FOUND", reason: "SECRET_STUB_CREATED" });
    const row = page.locator("[data-testid=missing-table] tr[data-secret=ORDERS_DB_PASSWORD]");
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("Password of the orders database");
    expect(await row.textContent()).toContain("orders");
    await page.locator("[data-testid=count-missing]").waitFor();
    await screenshot(page, "missing-desktop");

    await row.getByRole("button", { name: "Add value for ORDERS_DB_PASSWORD" }).click();
    const form = await dialog();
    expect(await form.getByLabel("Name").inputValue()).toBe("ORDERS_DB_PASSWORD");
    expect(await form.getByLabel("Description").inputValue()).toBe("Password of the orders database");
    const value = form.getByLabel("Value", { exact: true });
    expect(await value.inputValue()).toBe("");
    await value.fill(secretValue);
    expect(await value.getAttribute("class")).toContain("masked");
    await form.getByRole("button", { name: "Show value" }).click();
    expect(await value.getAttribute("class")).not.toContain("masked");
    await form.getByRole("button", { name: "Hide value" }).click();
    await screenshot(page, "secret-form-fill-desktop");
    await form.getByRole("button", { name: "Save" }).click();
    await dialogClosed();
    await row.waitFor({ state: "detached" });
    await page.getByText("Nothing is missing").waitFor();
  });

  it("approves the access request, and the service then receives the value over gRPC", async () => {
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).toMatchObject({
      reason: "ACCESS_PENDING",
    });
    await go("approvals");
    const row = page.locator("[data-testid=pending-access] tr[data-secret=ORDERS_DB_PASSWORD]");
    await row.waitFor();
    expect(await row.getAttribute("data-service")).toBe("orders");
    await screenshot(page, "approvals-access-desktop");
    await row.getByRole("button", { name: "Approve orders reading ORDERS_DB_PASSWORD" }).click();
    await row.waitFor({ state: "detached" });
    const got = await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken);
    expect(got).toMatchObject({ ok: true, response: { value: secretValue } });
  });

  it("warns, listing the granted secrets, before a second token of the service inherits them", async () => {
    expect((await grpc.registerToken("orders", ordersSecondToken, "2.2.0")).ok).toBe(true);
    const row = page.locator("[data-testid=pending-tokens] tr[data-service=orders]");
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("1 secret");
    await row.getByRole("button", { name: "Approve token of orders" }).click();
    const confirm = await dialog();
    const warning = confirm.locator("[data-testid=inheritance-warning]");
    await warning.getByText("ORDERS_DB_PASSWORD").waitFor();
    expect(await warning.textContent()).toContain("already holds 1 granted secret");
    await screenshot(page, "approvals-inheritance-desktop");
    // Escape backs out without approving.
    await page.keyboard.press("Escape");
    await dialogClosed();
    expect(await row.count()).toBe(1);
    await row.getByRole("button", { name: "Approve token of orders" }).click();
    await (await dialog()).getByRole("button", { name: "Approve and hand over access" }).click();
    await dialogClosed();
    await row.waitFor({ state: "detached" });
    const got = await grpc.getSecret("ORDERS_DB_PASSWORD", ordersSecondToken);
    expect(got).toMatchObject({ ok: true, response: { value: secretValue } });
  });

  it("adds a secret with the form's validation, searches, and keeps the value on an edit left empty", async () => {
    await go("secrets");
    await page.getByRole("button", { name: "Add secret" }).click();
    let form = await dialog();
    await form.getByLabel("Name").fill("billing key");
    await form.getByLabel("Description").click();
    await form.getByText("Start with an upper-case letter").waitFor();
    await form.getByLabel("Name").fill("Billing key");
    await form.getByText("Use only upper-case letters, digits and _").waitFor();
    expect(await form.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "secret-form-invalid-desktop");
    await form.getByLabel("Name").fill("BILLING_API_KEY");
    await form.getByLabel("Description").fill("Billing provider API key");
    await form.getByLabel("Value", { exact: true }).fill(billingValue);
    // The API's own 422 lands next to its field, and the value must be typed again.
    await page.route(`${baseUrl}/secrets`, (route) =>
      route.request().method() === "POST"
        ? route.fulfill({
            status: 422,
            contentType: "application/json",
            body: JSON.stringify({
              error: {
                code: "INVALID_ARGUMENT",
                message: "Invalid request: description is refused",
                requestId: "r-1",
                fields: [{ field: "description", message: "is refused by the vault" }],
              },
            }),
          })
        : route.continue(),
    );
    await form.getByRole("button", { name: "Add secret" }).click();
    await form.getByText("Is refused by the vault.").waitFor();
    await form.getByText("Enter the value again").waitFor();
    expect(await form.getByLabel("Value", { exact: true }).inputValue()).toBe("");
    await screenshot(page, "secret-form-server-422-desktop");
    await page.unroute(`${baseUrl}/secrets`);
    await form.getByLabel("Value", { exact: true }).fill(billingValue);
    await form.getByRole("button", { name: "Add secret" }).click();
    await dialogClosed();
    const billing = page.locator("[data-testid=secrets-table] tr[data-secret=BILLING_API_KEY]");
    await billing.waitFor();
    expect(await billing.textContent()).toContain("••••••");
    expect(await billing.textContent()).toContain("by root");

    // Adding the same name again does not overwrite its value.
    await page.getByRole("button", { name: "Add secret" }).click();
    form = await dialog();
    await form.getByLabel("Name").fill("BILLING_API_KEY");
    await form.getByLabel("Value", { exact: true }).fill("must-not-overwrite");
    await form.getByRole("button", { name: "Add secret" }).click();
    await form.getByText("BILLING_API_KEY already has a value").waitFor();
    await page.keyboard.press("Escape");
    await dialogClosed();

    // A stub without a value says so.
    await grpc.getSecret("ORDERS_SMTP_PASSWORD", ordersToken, { description: "SMTP relay password" });
    await page.reload();
    const stub = page.locator("[data-testid=secrets-table] tr[data-secret=ORDERS_SMTP_PASSWORD]");
    await stub.waitFor();
    expect(await stub.textContent()).toContain("no value");
    await screenshot(page, "secrets-desktop");

    await page.getByLabel("Search secrets by name or description").fill("orders");
    await expectCount("[data-testid=secrets-table] tbody tr", 2);
    await page.getByLabel("Search secrets by name or description").fill("billing provider");
    await expectCount("[data-testid=secrets-table] tbody tr", 1);
    await billing.waitFor();
    await page.getByLabel("Search secrets by name or description").fill("nothing-like-this");
    await page.getByText("No secrets match").waitFor();
    await page.getByLabel("Search secrets by name or description").fill("");
    await expectCount("[data-testid=secrets-table] tbody tr", 3);

    const orders = page.locator("[data-testid=secrets-table] tr[data-secret=ORDERS_DB_PASSWORD]");
    await orders.getByRole("button", { name: "Edit ORDERS_DB_PASSWORD" }).click();
    form = await dialog();
    await form.getByText("Leave empty to keep the current value").waitFor();
    expect(await form.getByLabel("New value").inputValue()).toBe("");
    await form.getByLabel("Description").fill("Password of the orders database (primary)");
    await screenshot(page, "secret-form-edit-desktop");
    await form.getByRole("button", { name: "Save" }).click();
    await dialogClosed();
    await orders.getByText("(primary)").waitFor();
    const got = await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken);
    expect(got).toMatchObject({ ok: true, response: { value: secretValue } });
  });

  it("keeps every value as a version, and rolls back to one as a new version", async () => {
    const orders = page.locator("[data-testid=secrets-table] tr[data-secret=ORDERS_DB_PASSWORD]");
    const version = orders.locator("[data-testid=secret-version]");
    expect((await version.textContent())?.trim()).toMatch(/^v1\b/);
    for (const [value, shown] of [
      [secondValue, "v2"],
      [thirdValue, "v3"],
    ] as const) {
      await orders.getByRole("button", { name: "Edit ORDERS_DB_PASSWORD" }).click();
      const form = await dialog();
      await form.getByLabel("New value").fill(value);
      await form.getByRole("button", { name: "Save" }).click();
      await dialogClosed();
      await version.getByText(shown, { exact: true }).waitFor();
    }
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).toMatchObject({
      ok: true,
      response: { value: thirdValue },
    });

    await orders.getByRole("button", { name: "Versions of ORDERS_DB_PASSWORD" }).click();
    const versions = await dialogNamed("Versions of ORDERS_DB_PASSWORD");
    const entries = versions.locator("[data-testid=versions-list] li");
    await expectCount("dialog[open] [data-testid=versions-list] li", 3);
    expect(
      await entries.evaluateAll((items) => items.map((item) => item.getAttribute("data-version"))),
    ).toEqual(["3", "2", "1"]);
    expect(await versions.locator("li[data-current]").getAttribute("data-version")).toBe("3");
    expect(await versions.locator("li[data-current]").textContent()).toContain("current");
    expect(await entries.first().textContent()).toContain("by root");
    // The current version cannot be rolled back to; every other one can.
    expect(await versions.getByRole("button", { name: /^Roll back ORDERS_DB_PASSWORD/ }).count()).toBe(2);
    await screenshot(page, "secret-versions-desktop");

    // A version no longer kept (404): said plainly, nothing changes.
    await page.route(`${baseUrl}/secrets/*/rollback`, (route) =>
      route.fulfill({
        status: 404,
        contentType: "application/json",
        body: JSON.stringify({
          error: {
            code: "NOT_FOUND",
            message: "Secret ORDERS_DB_PASSWORD keeps no version 2",
            requestId: "r-2",
          },
        }),
      }),
    );
    await versions.getByRole("button", { name: "Roll back ORDERS_DB_PASSWORD to version 2" }).click();
    let confirm = await dialogNamed("Roll ORDERS_DB_PASSWORD back to version 2?");
    await confirm.getByRole("button", { name: "Roll back", exact: true }).click();
    await confirm.waitFor({ state: "detached" });
    await versions
      .locator("[data-testid=rollback-failure]", { hasText: "can no longer be restored" })
      .waitFor();
    await page.unroute(`${baseUrl}/secrets/*/rollback`);

    // Escape leaves the confirmation only; the versions stay open.
    await versions.getByRole("button", { name: "Roll back ORDERS_DB_PASSWORD to version 1" }).click();
    confirm = await dialogNamed("Roll ORDERS_DB_PASSWORD back to version 1?");
    expect(await focusedText()).toBe("BUTTON:Roll back");
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    expect(await versions.isVisible()).toBe(true);
    expect(await focusedText()).toBe("BUTTON:Roll back ORDERS_DB_PASSWORD to version 1");

    await page.keyboard.press("Enter");
    confirm = await dialogNamed("Roll ORDERS_DB_PASSWORD back to version 1?");
    const explained = (await confirm.textContent()) ?? "";
    expect(explained).toContain("new version");
    expect(explained).toContain("(v4)");
    expect(explained).toContain("Services watching ORDERS_DB_PASSWORD are told");
    await screenshot(page, "secret-rollback-confirm-desktop");
    await page.keyboard.press("Enter");
    await confirm.waitFor({ state: "detached" });
    await expectCount("dialog[open] [data-testid=versions-list] li", 4);
    expect(await versions.locator("[data-testid=rollback-failure]").count()).toBe(0);
    const current = versions.locator("li[data-current]");
    expect(await current.getAttribute("data-version")).toBe("4");
    expect(await current.textContent()).toContain("restored from v1");
    await screenshot(page, "secret-versions-rolled-back-desktop");
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).toMatchObject({
      ok: true,
      response: { value: secretValue },
    });
    await page.keyboard.press("Escape");
    await dialogClosed();
    expect(await focusedText()).toBe("BUTTON:Versions of ORDERS_DB_PASSWORD");
    await version.getByText("v4", { exact: true }).waitFor();
  });

  it("refuses to save over a change made meanwhile, and offers to reload", async () => {
    const orders = page.locator("[data-testid=secrets-table] tr[data-secret=ORDERS_DB_PASSWORD]");
    await orders.getByRole("button", { name: "Edit ORDERS_DB_PASSWORD" }).click();
    const form = await dialog();
    await form.locator("[data-testid=form-version]", { hasText: "version 4" }).waitFor();
    await form.getByLabel("New value").fill(typedInConflict);
    // Someone else sets a value while the form is open.
    const elsewhere = await otherAdmin().putSecret({ name: "ORDERS_DB_PASSWORD", value: concurrentValue });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.json.secret.version).toBe(5);

    await form.getByRole("button", { name: "Save" }).click();
    const conflict = form.locator("[data-testid=save-conflict]");
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain("Someone else changed ORDERS_DB_PASSWORD");
    expect(await conflict.textContent()).toContain("Nothing was saved");
    // The typed value is gone from the form; the other admin's value is the one services read.
    expect(await form.getByLabel("New value").inputValue()).toBe("");
    expect(await form.getByLabel("New value").getAttribute("aria-invalid")).toBe("true");
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).toMatchObject({
      ok: true,
      response: { value: concurrentValue },
    });
    await screenshot(page, "secret-form-conflict-desktop");

    await conflict.getByRole("button", { name: "Reload ORDERS_DB_PASSWORD" }).click();
    await form.locator("[data-testid=form-version]", { hasText: "version 5" }).waitFor();
    await conflict.waitFor({ state: "detached" });
    expect(await focusedText()).toMatch(/^TEXTAREA/);
    await form.getByRole("button", { name: "Cancel" }).click();
    await dialogClosed();
    await orders.locator("[data-testid=secret-version]").getByText("v5", { exact: true }).waitFor();
  });

  it("deletes a secret only after confirmation", async () => {
    const billing = page.locator("[data-testid=secrets-table] tr[data-secret=BILLING_API_KEY]");
    await billing.getByRole("button", { name: "Delete BILLING_API_KEY" }).click();
    let confirm = await dialog();
    expect(await confirm.textContent()).toContain("BILLING_API_KEY");
    await screenshot(page, "secret-delete-confirm-desktop");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await dialogClosed();
    expect(await billing.count()).toBe(1);
    await billing.getByRole("button", { name: "Delete BILLING_API_KEY" }).click();
    confirm = await dialog();
    await confirm.getByRole("button", { name: "Delete secret" }).click();
    await dialogClosed();
    await billing.waitFor({ state: "detached" });
  });

  it("is usable by keyboard: Tab reaches “Add secret”, Enter opens the form, Escape closes it", async () => {
    await page.locator("main h1").focus();
    await tabTo(/^BUTTON:Add secret$/);
    await page.keyboard.press("Enter");
    await dialog();
    expect(await focusedText()).toMatch(/^INPUT/);
    await page.keyboard.press("Escape");
    await dialogClosed();
    expect(await focusedText()).toBe("BUTTON:Add secret");

    await page.keyboard.press("Enter");
    await dialog();
    await page.keyboard.type("KEYBOARD_MADE");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Typed without a mouse");
    await page.keyboard.press("Tab");
    expect(await focusedText()).toBe("BUTTON:Show value");
    await page.keyboard.press("Tab");
    await page.keyboard.type(keyboardValue);
    await tabTo(/^BUTTON:Add secret$/, 5);
    await page.keyboard.press("Enter");
    await dialogClosed();
    await page.locator("[data-testid=secrets-table] tr[data-secret=KEYBOARD_MADE]").waitFor();

    // Tab stays inside an open dialog.
    await page
      .locator("tr[data-secret=KEYBOARD_MADE]")
      .getByRole("button", { name: "Delete KEYBOARD_MADE" })
      .focus();
    await page.keyboard.press("Enter");
    const confirm = await dialog();
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      expect(
        await confirm.evaluate((element) =>
          element.contains((globalThis as unknown as PageGlobals).document.activeElement),
        ),
      ).toBe(true);
    }
    await page.keyboard.press("Escape");
    await dialogClosed();
  });

  it("revokes a token after confirmation", async () => {
    await go("tokens");
    const rows = page.locator("[data-testid=tokens-table] tr[data-service=orders]");
    await expectCount("[data-testid=tokens-table] tr[data-service=orders]", 2);
    await screenshot(page, "tokens-desktop");
    // The newest first: the 2.2.0 token.
    const second = rows.filter({ hasText: "2.2.0" });
    await second.getByRole("button", { name: "Revoke token of orders" }).click();
    const confirm = await dialog();
    await screenshot(page, "token-revoke-confirm-desktop");
    await confirm.getByRole("button", { name: "Revoke token" }).click();
    await dialogClosed();
    await second.locator("[data-testid=token-status]", { hasText: "revoked" }).waitFor();
    const refused = await grpc.getSecret("ORDERS_DB_PASSWORD", ordersSecondToken);
    expect(refused.ok).toBe(false);
    expect(await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).toMatchObject({ ok: true });
  });

  it("shows the run's audit events, filtered by secret and by service", { timeout: 90_000 }, async () => {
    await go("audit");
    const table = "[data-testid=audit-table]";
    const filterBy = async (field: "Secret" | "Service", text: string) => {
      const clear = page.getByRole("button", { name: "Clear" });
      if ((await clear.count()) > 0) await clear.click();
      await page.getByLabel(field, { exact: true }).fill(text);
      await page.getByRole("button", { name: "Apply filters" }).click();
    };
    /** The rows once the table shows the answer to the filters applied (not the previous one). */
    const settledRows = async () => {
      await page.locator(`${table}[aria-busy=false]`).waitFor({ timeout: 15_000 });
      return page.locator(`${table} tbody tr`).allTextContents();
    };
    await filterBy("Secret", "ORDERS_DB_PASSWORD");
    // Shipping to Loki takes a moment: refresh until the gRPC reads are there.
    const deadline = Date.now() + 30_000;
    const shown = (rows: string[]) =>
      rows.every((text) => text.includes("ORDERS_DB_PASSWORD")) &&
      rows.filter((text) => text.includes("secret.get")).length >= 3;
    while (!shown(await settledRows())) {
      if (Date.now() > deadline) throw new Error("the audit trail never showed the secret.get events");
      await Bun.sleep(1_000);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
    const secretRows = await settledRows();
    expect(secretRows.every((text) => text.includes("ORDERS_DB_PASSWORD"))).toBe(true);
    expect(secretRows.some((text) => /secret\.put/.test(text))).toBe(true);
    expect(secretRows.some((text) => /access\.approve/.test(text))).toBe(true);
    expect(secretRows.some((text) => /ACCESS_PENDING/.test(text))).toBe(true);
    await screenshot(page, "audit-secret-desktop");

    await filterBy("Service", "orders");
    // The revocation of the test before may still be on its way to Loki.
    const revokedBy = Date.now() + 30_000;
    const serviceShown = (rows: string[]) =>
      rows.filter((text) => text.includes("token.register")).length >= 2 &&
      rows.some((text) => text.includes("token.revoke"));
    while (!serviceShown(await settledRows())) {
      if (Date.now() > revokedBy) throw new Error("the audit trail never showed the token events");
      await Bun.sleep(1_000);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
    const serviceRows = await settledRows();
    expect(serviceRows.every((text) => text.includes("orders"))).toBe(true);
    expect(serviceRows.some((text) => /token\.revoke/.test(text))).toBe(true);
    await screenshot(page, "audit-service-desktop");

    await page.getByLabel("Outcome").selectOption("failure");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForFunction(
      (selector) => {
        const rows = Array.from(
          (globalThis as unknown as PageGlobals).document.querySelectorAll(`${selector} tbody tr`),
        );
        return rows.length > 0 && rows.every((row) => !row.textContent?.includes("success"));
      },
      table,
      { timeout: 15_000 },
    );
  });

  it("verifies the trail's hash chain for the range and shows the verified positions", async () => {
    await go("audit");
    // The whole default range (the last 24 hours), not the previous test's filters.
    const clear = page.getByRole("button", { name: "Clear" });
    if (await clear.isVisible()) await clear.click();
    await page.getByRole("button", { name: "Verify this range" }).click();
    const result = page.locator("[data-testid=audit-verify-result]");
    await result.waitFor({ timeout: 15_000 });
    expect(await result.textContent()).toContain("Intact");
    const panel = (await page.locator("[data-testid=audit-verify]").textContent()) ?? "";
    expect(panel).toMatch(/Verified positions 1–\d+ \(\d+ events\)/);
  });

  it("loads older audit events a page at a time, each event once", { timeout: 90_000 }, async () => {
    const pageSize = 200; // auditPageSize in web/src/api/queries.ts
    const reads = () => loki.entries().filter((entry) => entry.labels.event === "secret.get").length;
    const before = reads();
    for (let i = 0; i < pageSize + 30; i++) {
      expect((await grpc.getSecret("ORDERS_DB_PASSWORD", ordersToken)).ok).toBe(true);
    }
    // Every read is in Loki before the trail is read: a page holds what was shipped when it was read.
    const shippedBy = Date.now() + 30_000;
    while (reads() < before + pageSize + 30) {
      if (Date.now() > shippedBy) throw new Error(`only ${reads() - before} of the reads reached Loki`);
      await Bun.sleep(200);
    }
    await go("audit");
    const clear = page.getByRole("button", { name: "Clear" });
    if ((await clear.count()) > 0) await clear.click();
    await page.getByLabel("Event", { exact: true }).selectOption("secret.get");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const older = page.getByRole("button", { name: "Load older events" });
    // Shipping to Loki takes a moment: refresh until a full page is there, with more behind it.
    const deadline = Date.now() + 30_000;
    while ((await older.count()) === 0) {
      if (Date.now() > deadline) throw new Error("the audit trail never offered older events");
      await Bun.sleep(1_000);
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("[data-testid=audit-table][aria-busy=false]").waitFor({ timeout: 15_000 });
    }
    const rows = "[data-testid=audit-table] tbody tr";
    expect(await page.locator(rows).count()).toBe(pageSize);
    await older.click();
    await page.waitForFunction(
      ({ rows, pageSize }) =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll(rows).length > pageSize,
      { rows, pageSize },
      { timeout: 15_000 },
    );
    const ids = await page
      .locator(rows)
      .evaluateAll((found) => found.map((row) => row.getAttribute("data-id")));
    expect(ids.length).toBeGreaterThanOrEqual(pageSize + 30);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await page.locator(`${rows}:not([data-event="secret.get"])`).count()).toBe(0);
    await expect(page.locator("[data-testid=audit-count]").textContent()).resolves.toContain(
      `${ids.length} events`,
    );
  });

  it("fits a phone-width screen without sideways scrolling", async () => {
    await page.setViewportSize(viewports.phone);
    for (const view of ["secrets", "missing", "approvals", "tokens", "audit", "keys"] as const) {
      await go(view);
      await page.waitForLoadState("networkidle").catch(() => undefined);
      await expectNoOverflow(view);
      await screenshot(page, `${view}-phone`);
    }
    await go("secrets");
    await page.getByRole("button", { name: "Add secret" }).click();
    await dialog();
    await expectNoOverflow("secret form");
    await screenshot(page, "secret-form-phone");
    await page.keyboard.press("Escape");
    await dialogClosed();
    await page
      .locator("[data-testid=secrets-table] tr[data-secret=ORDERS_DB_PASSWORD]")
      .getByRole("button", { name: "Versions of ORDERS_DB_PASSWORD" })
      .click();
    const versions = await dialog();
    await expectCount("dialog[open] [data-testid=versions-list] li", 5);
    await expectNoOverflow("versions");
    await screenshot(page, "secret-versions-phone");
    await versions.getByRole("button", { name: "Roll back ORDERS_DB_PASSWORD to version 2" }).click();
    await dialogNamed("Roll ORDERS_DB_PASSWORD back to version 2?");
    await expectNoOverflow("rollback confirmation");
    await screenshot(page, "secret-rollback-confirm-phone");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    await dialogClosed();
    await page.setViewportSize(viewports.desktop);
  });

  it("never shows or receives a value", async () => {
    await go("secrets");
    await expectNoValueAnywhere();
  });

  it("returns to the login page when the session is ended from another tab", async () => {
    const other = await context.newPage();
    await other.goto(`${baseUrl}/healthz`);
    const status = await other.evaluate(async () => (await fetch("/session", { method: "DELETE" })).status);
    expect(status).toBe(204);
    await other.close();
    await page.locator("#admin-token").waitFor({ timeout: 20_000 });
    await page.getByText("Your session has ended").waitFor();
    await screenshot(page, "session-ended-desktop");
    await page.setViewportSize(viewports.phone);
    await expectNoOverflow("login");
    await screenshot(page, "login-phone");
    await page.setViewportSize(viewports.desktop);
  });

  it("returns to the login page when the admin's token is revoked", async () => {
    const created = await adminTokenCli("create", "--name", "alice");
    const aliceToken = /ssadm_[A-Za-z0-9_-]{43}/.exec(created)?.[0] ?? "";
    await signIn(page, aliceToken);
    await page.getByText("alice").first().waitFor();
    await adminTokenCli("revoke", "--name", "alice");
    await page.locator("#admin-token").waitFor({ timeout: 20_000 });
    await page.getByText("Your session has ended").waitFor();
    await signIn(page, bootstrapToken);
  });
});

describe("the dashboard with 10,000 secrets", () => {
  const total = 10_000;
  /** Seeded with a value each, `LOAD_000000` to `LOAD_009999`. */
  let seeded: { id: string; name: string; value: string }[] = [];

  it("searches and pages on the server, holding one page of rows in the DOM", async () => {
    // Straight into the database, as the vault would have stored them: encrypted under its current key,
    // one kept version each. Descriptions in one statement, for the search by description.
    const seedStarted = performance.now();
    const opened = await openDatabase({
      databaseUrl: stack.databaseUrl,
      dataDir: stack.vaultDataDir,
      maxConnections: 4,
    });
    try {
      const keyring = await loadOrCreateKeyring({ dataDir: stack.vaultDataDir });
      seeded = await seedSecrets(opened.db, keyring, {
        count: total,
        prefix: "LOAD",
        valueOf: (i) => `load-${i}-${randomBytes(8).toString("hex")}`,
      });
    } finally {
      await opened.close();
    }
    const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update secrets set description = 'Load test secret ' || substr(name, 6) where name like 'LOAD\_%'`;
    } finally {
      await sql.end();
    }
    const seedMs = performance.now() - seedStarted;
    figures["seed 10,000 secrets into the database"] =
      `${Math.round(seedMs)} ms (${Math.round(total / (seedMs / 1000))}/s)`;

    // The rows arrived behind the dashboard's back (straight into the database), so its cached page may
    // still look fresh: a reload reads them, as it would for an admin after such an import.
    await go("audit");
    await page.reload();
    await page.locator("main h1").waitFor();
    const loadStarted = performance.now();
    await go("secrets");
    const rows = "[data-testid=secrets-table] tbody tr";
    await page.locator("[data-testid=secrets-range]", { hasText: "rows 1–50" }).waitFor({ timeout: 30_000 });
    await page.locator(`${rows}[data-secret=LOAD_000048]`).waitFor();
    figures["secrets view, first page shown"] = `${Math.round(performance.now() - loadStarted)} ms`;
    expect(await page.locator(rows).count()).toBe(50);
    await screenshot(page, "secrets-10k-desktop");
    const domNodes = await page.evaluate(
      () => (globalThis as unknown as PageGlobals).document.getElementsByTagName("*").length,
    );
    figures["DOM elements with a page of 50 rows shown"] = domNodes;

    const pageStarted = performance.now();
    for (let i = 0; i < 3; i++) {
      const before = await page.locator(rows).first().getAttribute("data-secret");
      await page.getByRole("button", { name: "Next" }).click();
      await page.waitForFunction(
        ({ selector, before }) =>
          (globalThis as unknown as PageGlobals).document
            .querySelector(selector)
            ?.getAttribute("data-secret") !== before,
        { selector: rows, before },
      );
    }
    figures["three “Next” pages"] = `${Math.round(performance.now() - pageStarted)} ms`;
    expect(await page.locator("[data-testid=secrets-range]").textContent()).toContain(
      "Page 4 · rows 151–200",
    );
    expect(await page.locator(rows).count()).toBe(50);
    await page.getByRole("button", { name: "Previous" }).click();
    await page.locator("[data-testid=secrets-range]", { hasText: "Page 3" }).waitFor();

    const searchStarted = performance.now();
    await page.getByLabel("Search secrets by name or description").fill("LOAD_00999");
    await expectCount(rows, 10, 30_000);
    figures["search “LOAD_00999” (10 of 10,000), typed to shown"] =
      `${Math.round(performance.now() - searchStarted)} ms`;
    const found = await page
      .locator(rows)
      .evaluateAll((elements) => elements.map((element) => element.getAttribute("data-secret")));
    expect(found).toEqual(Array.from({ length: 10 }, (_, i) => `LOAD_00999${i}`));
    expect(await page.locator("[data-testid=secrets-range]").textContent()).toContain("Page 1");

    const descriptionStarted = performance.now();
    await page.getByLabel("Search secrets by name or description").fill("load test secret 004242");
    await expectCount(rows, 1, 30_000);
    figures["search by description, typed to shown"] =
      `${Math.round(performance.now() - descriptionStarted)} ms`;
    await screenshot(page, "secrets-10k-search-desktop");

    await page.setViewportSize(viewports.phone);
    await page.getByLabel("Search secrets by name or description").fill("");
    await expectCount(rows, 50, 30_000);
    await expectNoOverflow("secrets with 10,000");
    await page.setViewportSize(viewports.desktop);
  }, 120_000);

  it("rotates the encryption key from its panel: values move to the new key in the background, all readable", async () => {
    // A sample of the seeded secrets granted to `orders`, read over gRPC before, during and after.
    const sample = seeded.filter((_, i) => i % 250 === 0);
    for (const secret of sample) {
      expect((await otherAdmin().grantAccess(secret.name, "orders")).status).toBe(201);
    }
    const readable = [{ name: "ORDERS_DB_PASSWORD", value: concurrentValue }, ...sample];
    const readEvery = async () => {
      for (const { name, value } of readable) {
        expect(await grpc.getSecret(name, ordersToken), name).toMatchObject({
          ok: true,
          response: { value },
        });
      }
    };
    await readEvery();

    await go("keys");
    const pending = page.locator("[data-testid=pending-rewrap]");
    const pendingDone = page.locator("[data-testid=pending-rewrap]", { hasText: /^0$/ });
    await pendingDone.waitFor();
    expect(await page.locator("[data-testid=key-count]").textContent()).toBe("1");
    await screenshot(page, "keys-desktop");

    await page.getByRole("button", { name: "Rotate now" }).click();
    const confirm = await dialog();
    const explained = (await confirm.textContent()) ?? "";
    expect(explained).toContain("New writes use the new key at once");
    expect(explained).toContain("re-encrypted in the background");
    expect(explained).toContain("Nothing becomes unreadable");
    await screenshot(page, "keys-rotate-confirm-desktop");
    const rotateStarted = performance.now();
    await confirm.getByRole("button", { name: "Rotate now" }).click();
    await dialogClosed();
    const pendingCount = async () => Number(((await pending.textContent()) ?? "").replace(/\D/g, ""));
    await page.waitForFunction(
      (selector) =>
        Number(
          (globalThis as unknown as PageGlobals).document
            .querySelector(selector)
            ?.textContent?.replace(/\D/g, ""),
        ) > 0,
      "[data-testid=pending-rewrap]",
    );
    const firstShown = await pendingCount();
    // Every seeded value has a current value and one kept version, both re-encrypted.
    expect(firstShown).toBeGreaterThan(0);
    expect(firstShown).toBeLessThanOrEqual(2 * total + 20);
    figures["values waiting for the rewrap, first shown"] = firstShown;
    await screenshot(page, "keys-rewrap-desktop");
    await readEvery();

    // Polled while values are left: 0 appears without a reload.
    await pendingDone.waitFor({ timeout: 120_000 });
    figures["rewrap after “Rotate now”, shown done"] = `${Math.round(performance.now() - rotateStarted)} ms`;
    // The previous key stays for its grace period after the last value left it.
    expect(await page.locator("[data-testid=key-count]").textContent()).toBe("2");
    await readEvery();
    await screenshot(page, "keys-rewrapped-desktop");

    await page.setViewportSize(viewports.phone);
    await expectNoOverflow("keys");
    await screenshot(page, "keys-rewrapped-phone");
    await page.setViewportSize(viewports.desktop);
  }, 180_000);

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    expect(await page.evaluate(async () => (await fetch("/session")).status)).toBe(401);
  });
});
