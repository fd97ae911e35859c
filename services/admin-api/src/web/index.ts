/**
 * Serves the dashboard: `/` (and `/index.html`) and `/assets/<hashed name>`. Only these GET routes, so no
 * API route is shadowed; the dashboard routes with the URL hash, so it needs no other fallback. Hidden from
 * the OpenAPI document: they are not part of the API.
 */
import { Elysia, t } from "elysia";
import { ApiError } from "../http/api-error.ts";
import {
  type DashboardFiles,
  dashboardContentSecurityPolicy,
  immutableCacheControl,
  notBuiltPage,
} from "./static-files.ts";

const hidden = { hide: true } as const;

export function dashboardController(deps: { files: DashboardFiles }) {
  const { files } = deps;
  const page = async ({ set }: { set: { headers: Record<string, string | number>; status?: unknown } }) => {
    set.headers["content-security-policy"] = dashboardContentSecurityPolicy;
    set.headers["content-type"] = "text/html; charset=utf-8";
    const index = await files.index();
    if (index) return index;
    set.status = 404;
    return notBuiltPage;
  };
  return new Elysia({ name: "dashboard" })
    .get("/", page, { detail: hidden })
    .get("/index.html", page, { detail: hidden })
    .get(
      "/assets/:file",
      async ({ params, set }) => {
        const asset = await files.asset(params.file);
        if (!asset) throw new ApiError(404, "NOT_FOUND", `No dashboard file named "${params.file}"`);
        set.headers["cache-control"] = immutableCacheControl;
        set.headers["content-security-policy"] = dashboardContentSecurityPolicy;
        return asset;
      },
      { params: t.Object({ file: t.String({ maxLength: 200 }) }), detail: hidden },
    );
}
