/**
 * Real Chromium for the dashboard's browser tests: Debian's `/usr/bin/chromium` driven by playwright-core
 * (no browser download). Records every response body the page received, so a test can search all of
 * them, and writes screenshots to `.artifacts/screenshots/`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import { repoRoot } from "./processes.ts";

export const chromiumPath = "/usr/bin/chromium";
export const screenshotDir = join(repoRoot, ".artifacts", "screenshots");

export const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Launches headless Chromium; says clearly what to install when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: install Debian's chromium package (apt-get install chromium)`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface RecordedBody {
  url: string;
  status: number;
  body: string;
}

/**
 * Keeps the body of every response the page sees (API calls, the page, its assets). `settled()` waits
 * for the bodies still being read.
 */
export function recordResponses(page: Page) {
  const bodies: RecordedBody[] = [];
  const reading = new Set<Promise<void>>();
  const read = async (response: Response) => {
    let body = "";
    try {
      body = (await response.body()).toString("utf8");
    } catch {
      // Redirects and aborted requests have no body.
    }
    bodies.push({ url: response.url(), status: response.status(), body });
  };
  page.on("response", (response) => {
    const promise = read(response);
    reading.add(promise);
    void promise.finally(() => reading.delete(promise));
  });
  return {
    bodies,
    async settled(): Promise<RecordedBody[]> {
      while (reading.size > 0) await Promise.all([...reading]);
      return bodies;
    },
  };
}

/** Writes `.artifacts/screenshots/<name>.png` (full page) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

/** An element as `page.evaluate` callbacks use it. */
export interface PageElement {
  tagName: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  contains(other: PageElement | null): boolean;
}

/**
 * The page's globals as `page.evaluate` callbacks see them. The workspace compiles without the DOM
 * library (its types and Bun's disagree), so a callback reaches them as
 * `(globalThis as unknown as PageGlobals).document`; the cast is erased before the code runs in the page.
 */
export interface PageGlobals {
  document: {
    activeElement: PageElement | null;
    cookie: string;
    documentElement: { scrollWidth: number };
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    getElementsByTagName(name: string): { length: number };
  };
  innerWidth: number;
  location: { hash: string };
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
}

/** Whether the page body is wider than the viewport (content scrolls sideways). */
export function hasHorizontalOverflow(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const { document, innerWidth } = globalThis as unknown as PageGlobals;
    return document.documentElement.scrollWidth > innerWidth;
  });
}
