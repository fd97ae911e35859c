import { QueryClient, VueQueryPlugin } from "@tanstack/vue-query";
import { createApp } from "vue";
import App from "./App.vue";
import { ApiFailure } from "./api/http.ts";
import { watchForSignOut } from "./session.ts";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2_000,
      // A refusal (4xx) will not change by asking again; a 5xx or a dropped connection may.
      retry: (count, error) =>
        !(error instanceof ApiFailure && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: true,
    },
    mutations: { retry: false },
  },
});
watchForSignOut(queryClient);

createApp(App).use(VueQueryPlugin, { queryClient }).mount("#app");
