/**
 * The API reference viewer at `/swagger`, with nothing from another origin: the page is ours, the viewer
 * is the pinned `@scalar/api-reference` package's standalone bundle served from node_modules, and its
 * start-up is a script of ours, so the CSP can say `script-src 'self'` with no inline code. The page lives
 * on the admin origin next to the dashboard's session cookie: a script from a CDN here would act as the
 * signed-in admin, so a compromised package release or CDN must not be able to reach it.
 */
import { dirname, join } from "node:path";

/**
 * Same-origin scripts only, none inline. Styles allow inline because the viewer (Vue, Tailwind) injects
 * `<style>` elements at run time; CSS cannot run code. `connect-src 'self'`: the viewer fetches the
 * document and sends "try it" requests to this API only, never to Scalar's proxy or telemetry.
 */
export const docsContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const docsAssets = {
  viewer: "/swagger/assets/api-reference.js",
  start: "/swagger/assets/start.js",
} as const;

/** The standalone bundle of the pinned package (its version is fixed in package.json, no range). */
export function viewerBundlePath(): string {
  const entry = Bun.resolveSync("@scalar/api-reference", import.meta.dirname);
  return join(dirname(entry), "browser", "standalone.js");
}

/**
 * Starts the viewer on the page's element; settings that would reach another origin are off. The element
 * is not `#api-reference`: the bundle mounts one with default settings (web fonts included) on that id.
 */
export const startScript = `"use strict";
(function () {
  var element = document.getElementById("api-docs");
  window.Scalar.createApiReference(element, {
    url: element.getAttribute("data-url"),
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: true,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true },
  });
})();
`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function viewerPage(title: string, specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="api-docs" data-url="${escapeHtml(specUrl)}"></div>
<script src="${docsAssets.viewer}"></script>
<script src="${docsAssets.start}"></script>
</body>
</html>
`;
}
