/**
 * Builds the dashboard into `web/dist`, which the admin API serves at `/`. Everything is bundled (no CDN),
 * and nothing is inlined as a data: URI or an inline script, so the page runs under a CSP of 'self' only.
 */
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

/** The admin API's routes the dashboard calls (every path under them is proxied too). */
const apiRoutes = [
  "/secrets",
  "/access-requests",
  "/service-tokens",
  "/audit",
  "/keys",
  "/session",
  "/healthz",
];

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    // The admin API serves only index.html and assets/*: keep the module-preload polyfill out of index.html.
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
  },
  server: {
    // `bunx vite` in web/ during development: the API routes go to a local admin API.
    proxy: Object.fromEntries(
      apiRoutes.map((path) => [
        path,
        { target: process.env.ADMIN_API_URL ?? "http://127.0.0.1:8080", changeOrigin: false },
      ]),
    ),
  },
});
