/**
 * axe-core, Deque's accessibility engine, run inside the page under test: the WCAG 2.0/2.1 level A and AA
 * rules. The engine is injected from the npm package (no CDN), so it runs the same offline and in CI.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** One failed rule, with the elements it failed on. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The tags of WCAG 2.1 AA (which includes 2.0 A and AA and 2.1 A). */
const wcag21aa = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe on the page (or within `include`, a CSS selector) and returns the WCAG 2.1 AA violations;
 * an accessible page returns [].
 */
export async function axeViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  // Evaluated rather than added as a <script>: the dashboard's Content-Security-Policy refuses inline scripts.
  await page.evaluate(axeSource);
  return page.evaluate(
    async ({ include, tags }) => {
      // The page's `axe` global, typed here only as far as this call uses it.
      const axe = (globalThis as unknown as { axe: AxeGlobal }).axe;
      const result = await axe.run(include ?? (globalThis as unknown as { document: unknown }).document, {
        runOnly: { type: "tag", values: tags },
        resultTypes: ["violations"],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        targets: v.nodes.map((node) => node.target.join(" ")),
      }));
    },
    { include, tags: wcag21aa },
  );
}

interface AxeGlobal {
  run(
    context: unknown,
    options: { runOnly: { type: "tag"; values: string[] }; resultTypes: string[] },
  ): Promise<{
    violations: { id: string; impact?: string | null; help: string; nodes: { target: string[] }[] }[];
  }>;
}
