/** The dashboard build check that `bun run dev` uses, for tests that need `web/dist`. */
export {
  dashboardDist,
  dashboardIsStale,
  ensureDashboardBuilt,
} from "../../services/embedded/src/dashboard-build.ts";
