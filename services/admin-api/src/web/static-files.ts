/**
 * The built dashboard (`web/dist`, from `bun run web:build`) as files to serve: `index.html` and the
 * content-hashed files under `assets/`. Nothing else in the folder is reachable, and a name is matched
 * against a strict pattern before it touches the file system, so no path can climb out of it.
 */
import { join } from "node:path";

/** Vite's output names: `index-BkX2f9aQ.js`. No slashes, no leading dot. */
const assetNamePattern = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/**
 * Only this origin's scripts, styles, images and API; no inline code, no framing, no plugins. The dashboard
 * bundles everything it uses (no CDN), so nothing else is needed.
 */
export const dashboardContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Hashed names change with their content: browsers may keep them for a year. */
export const immutableCacheControl = "public, max-age=31536000, immutable";

export interface DashboardFiles {
  /** `index.html`, or undefined while the dashboard is not built. */
  index(): Promise<Blob | undefined>;
  /** A file under `assets/`, or undefined when the name is not one or no such file exists. */
  asset(name: string): Promise<Blob | undefined>;
}

export function dashboardFiles(webDir: string): DashboardFiles {
  const existing = async (path: string) => {
    const file = Bun.file(path);
    return (await file.exists()) ? file : undefined;
  };
  return {
    index: () => existing(join(webDir, "index.html")),
    asset: async (name) => (assetNamePattern.test(name) ? existing(join(webDir, "assets", name)) : undefined),
  };
}

/** What `/` answers while `web/dist` is missing: the API works, the page says how to build the dashboard. */
export const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Secrets Service</title></head>
<body><h1>Secrets Service admin API</h1>
<p>The dashboard is not built. Run <code>bun run web:build</code> and reload this page.</p>
<p>The API itself is up: its documentation is at <a href="/swagger">/swagger</a>.</p></body></html>
`;
