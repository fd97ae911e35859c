/**
 * Every admin API read and write as TanStack Query composables, with one place for the keys. Counts in
 * the navigation (pending approvals, missing secrets) poll every `pollMs`, the key status every
 * `rewrapPollMs` while values are being re-encrypted; each change invalidates what it affects, so every
 * view refreshes without a reload.
 */

import type {
  AccessRequestView,
  KeyStatus,
  PutSecretBody,
  RollbackBody,
  SecretView,
  ServiceTokenStatusName,
} from "@secrets/admin-api-schema";
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/vue-query";
import { computed, type Ref, ref } from "vue";
import { adminApi, call } from "./http.ts";

/** How often the navigation's counts and the approval lists refresh. */
export const pollMs = 5_000;
/** Rows per page of the secrets table. */
export const secretsPageSize = 50;
/** Rows per page of the pending approvals and missing secrets lists. */
export const approvalsPageSize = 50;
/** How often the key status refreshes while the background rewrap has values left. */
export const rewrapPollMs = 2_000;

export const queryKeys = {
  session: ["session"] as const,
  secrets: ["secrets"] as const,
  accessRequests: ["access-requests"] as const,
  serviceTokens: ["service-tokens"] as const,
  audit: ["audit"] as const,
  keys: ["keys"] as const,
};

export function useSession() {
  return useQuery({
    queryKey: queryKeys.session,
    queryFn: ({ signal }) => call(adminApi.GET("/session", { signal })).catch(signedOutOn401),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

/** `GET /session` answering 401 means "not signed in": null, not an error. */
function signedOutOn401(error: unknown): null {
  if (error instanceof Error && "status" in error && error.status === 401) return null;
  throw error;
}

/** One page of secrets, searched on the server (`q`) and paged with its cursor. */
export function useSecretsPage(q: Ref<string>, cursor: Ref<string | undefined>) {
  return useQuery({
    queryKey: [...queryKeys.secrets, "page", q, cursor],
    queryFn: ({ signal }) =>
      call(
        adminApi.GET("/secrets", {
          params: { query: { q: q.value.trim(), cursor: cursor.value, limit: secretsPageSize } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

/**
 * The secret with exactly this name as the API has it now, or undefined when there is none: searched by
 * name (`q` also matches other names and descriptions, hence the exact match), a bounded number of pages.
 */
export async function findSecret(name: string): Promise<SecretView | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const result = await call(
      adminApi.GET("/secrets", { params: { query: { q: name, limit: 1000, cursor } } }),
    );
    const found = result.secrets.find((secret) => secret.name === name);
    if (found || !result.nextCursor) return found;
    cursor = result.nextCursor;
  }
  return undefined;
}

/** A secret's kept versions, newest first (metadata only: values are never returned). */
export function useSecretVersions(id: Ref<string | undefined>) {
  return useQuery({
    queryKey: [...queryKeys.secrets, "versions", id],
    enabled: computed(() => id.value !== undefined),
    queryFn: ({ signal }) =>
      call(adminApi.GET("/secrets/{id}/versions", { params: { path: { id: id.value ?? "" } }, signal })),
    staleTime: 0,
  });
}

/**
 * One page of stubs still without a value (what services asked for and nobody set); the first page
 * without a cursor, which the navigation's count shares.
 */
export function useMissingSecrets(cursor: Ref<string | undefined> = ref<string | undefined>()) {
  return useQuery({
    queryKey: [...queryKeys.secrets, "missing", cursor],
    queryFn: ({ signal }) =>
      call(
        adminApi.GET("/secrets", {
          params: { query: { missing: true, limit: approvalsPageSize, cursor: cursor.value } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: pollMs,
  });
}

/** One page of pending access requests, with the services at their limit. */
export function usePendingAccessRequests(cursor: Ref<string | undefined> = ref<string | undefined>()) {
  return useQuery({
    queryKey: [...queryKeys.accessRequests, "pending", cursor],
    queryFn: ({ signal }) =>
      call(
        adminApi.GET("/access-requests", {
          params: { query: { status: "pending", limit: approvalsPageSize, cursor: cursor.value } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: pollMs,
  });
}

/** Every granted secret of one service: what a new token of that service inherits. */
export function useGrantedSecrets(serviceName: Ref<string | undefined>) {
  return useQuery({
    queryKey: [...queryKeys.accessRequests, "granted", serviceName],
    enabled: computed(() => serviceName.value !== undefined),
    queryFn: async ({ signal }) => {
      const granted: AccessRequestView[] = [];
      let cursor: string | undefined;
      // Granted requests are listed for every service; keep this service's, a bounded number of pages.
      for (let page = 0; page < 10; page++) {
        const result = await call(
          adminApi.GET("/access-requests", {
            params: { query: { status: "granted", limit: 1000, cursor } },
            signal,
          }),
        );
        granted.push(...result.accessRequests.filter((r) => r.serviceName === serviceName.value));
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
      }
      return granted.map((r) => r.secretName).sort();
    },
  });
}

/** One page of pending service tokens, with the names and addresses at their limit. */
export function usePendingServiceTokens(cursor: Ref<string | undefined> = ref<string | undefined>()) {
  return useQuery({
    queryKey: [...queryKeys.serviceTokens, "pending", cursor],
    queryFn: ({ signal }) =>
      call(
        adminApi.GET("/service-tokens", {
          params: { query: { status: "pending", limit: approvalsPageSize, cursor: cursor.value } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: pollMs,
  });
}

export function useServiceTokens(status: Ref<ServiceTokenStatusName | "">, cursor: Ref<string | undefined>) {
  return useQuery({
    queryKey: [...queryKeys.serviceTokens, "page", status, cursor],
    queryFn: ({ signal }) =>
      call(
        adminApi.GET("/service-tokens", {
          params: { query: { status: status.value || undefined, cursor: cursor.value, limit: 50 } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: pollMs * 2,
  });
}

export interface AuditFilters {
  secret: string;
  service: string;
  event: string;
  outcome: "" | "success" | "failure";
  /** ISO-8601, or empty for the API's default (24 hours before `to`). */
  from: string;
  /** ISO-8601, or empty for now. */
  to: string;
}

/** Events per page of the audit trail. */
export const auditPageSize = 200;

/** The audit trail for the filters, newest first, a page at a time: `fetchNextPage` adds older events. */
export function useAudit(filters: Ref<AuditFilters>) {
  return useInfiniteQuery({
    queryKey: [...queryKeys.audit, filters],
    queryFn: ({ signal, pageParam }) =>
      call(
        adminApi.GET("/audit", {
          params: {
            query: {
              ...filters.value,
              outcome: filters.value.outcome || undefined,
              limit: auditPageSize,
              cursor: pageParam,
            },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
}

/** Verifies the trail's hash chain and digests over a range (ISO-8601, empty for the API's defaults). */
export function useAuditVerification() {
  return useMutation({
    mutationFn: (range: { from: string; to: string }) =>
      call(adminApi.GET("/audit/verify", { params: { query: range } })),
  });
}

/** A write that refreshes the lists it changes once it succeeds. */
function useChange<Input, Result>(
  write: (input: Input) => Promise<Result>,
  invalidates: readonly (readonly string[])[],
) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSettled: () =>
      Promise.all(invalidates.map((queryKey) => client.invalidateQueries({ queryKey: [...queryKey] }))),
  });
}

/** A secret to create or update; `expectedVersion` is the check-and-set (409 if it moved on since). */
export type SecretInput = PutSecretBody;

export const useSaveSecret = () =>
  useChange(
    (input: SecretInput) => call(adminApi.POST("/secrets", { body: input })),
    [queryKeys.secrets, queryKeys.accessRequests],
  );

/** The secret's id, the kept version to restore as a new one, and the current version the admin saw. */
export type RollbackInput = RollbackBody & { id: string };

export const useRollbackSecret = () =>
  useChange(
    ({ id, ...body }: RollbackInput) =>
      call(adminApi.POST("/secrets/{id}/rollback", { params: { path: { id } }, body })),
    [queryKeys.secrets],
  );

export const useDeleteSecret = () =>
  useChange(
    (id: string) => call(adminApi.DELETE("/secrets/{id}", { params: { path: { id } } })),
    [queryKeys.secrets, queryKeys.accessRequests, queryKeys.serviceTokens],
  );

export const useDecideAccess = () =>
  useChange(
    ({ id, decision }: { id: string; decision: "approve" | "deny" }) =>
      call(
        decision === "approve"
          ? adminApi.POST("/access-requests/{id}/approve", { params: { path: { id } } })
          : adminApi.POST("/access-requests/{id}/deny", { params: { path: { id } } }),
      ),
    [queryKeys.accessRequests, queryKeys.secrets, queryKeys.serviceTokens],
  );

export const useDecideToken = () =>
  useChange(
    ({ id, decision }: { id: string; decision: "approve" | "deny" | "revoke" }) =>
      call(adminApi.POST(`/service-tokens/{id}/${decision}`, { params: { path: { id } } })),
    [queryKeys.serviceTokens],
  );

/** The encryption key's status; refreshed every `rewrapPollMs` while values are still being re-encrypted. */
export function useKeyStatus() {
  return useQuery({
    queryKey: queryKeys.keys,
    queryFn: ({ signal }) => call(adminApi.GET("/keys", { signal })),
    refetchInterval: (query) => ((query.state.data?.pendingRewrap ?? 0) > 0 ? rewrapPollMs : false),
  });
}

/** Rotates now; the answer's figures show at once, before the status is read again. */
export function useRotateKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => call(adminApi.POST("/keys/rotate")),
    onSuccess: ({ rotatedAt, pendingRewrap }) => {
      client.setQueryData<KeyStatus>(queryKeys.keys, (status) =>
        status ? { ...status, lastRotatedAt: rotatedAt, pendingRewrap } : status,
      );
    },
    onSettled: () => client.invalidateQueries({ queryKey: [...queryKeys.keys] }),
  });
}
