/**
 * The API reference at `/swagger`, in Chromium against the real admin API: it renders the admin API's own
 * document, and no request leaves the admin origin (the viewer is served from it, pinned; nothing comes
 * from a CDN), with no Content Security Policy violation on the way.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { createStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault();
  baseUrl = (await stack.startAdminApi()).url;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
});

describe("the API reference page", () => {
  it("renders the admin API's document from this origin alone, under its CSP", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    const violations: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(`${baseUrl}/swagger`, { waitUntil: "networkidle" });
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    // The viewer fetched and rendered our document: its routes are on the page.
    await page.getByText("Roll a secret back to a kept version").first().waitFor({ timeout: 20_000 });
    // Anything the viewer asks for after rendering (lazy chunks, fonts, telemetry) would show up by now.
    await page.waitForTimeout(1_000);
    const origin = new URL(baseUrl).origin;
    const foreign = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"));
    expect(foreign).toEqual([]);
    expect(requested).toContain(`${origin}/swagger/json`);
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);
});
