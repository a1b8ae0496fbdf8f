// TanStack Query hooks over the API client. Run data stays current through events.ts, which
// writes pushed records into these same cache entries.
import {
  keepPreviousData,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
  type UseQueryResult,
} from "@tanstack/react-query";
import { applyRunRecord, findCachedRun } from "./cache";
import { api } from "./client";
import { HttpError } from "./errors";
import { keys } from "./keys";
import { useMemo } from "react";
import type { MetricsResponse, RunFilters, RunRecord, StartRunRequest, Task } from "./types";

/** Retry what may be passing (network, 5xx), never what the server refused on purpose. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof HttpError && error.status < 500) return false;
  return failureCount < 2;
}

export function useCatalog() {
  return useQuery({
    queryKey: keys.catalog,
    queryFn: ({ signal }) => api.getCatalog(signal),
    staleTime: 60_000, // `catalog.reloaded` events invalidate it when the file changes
  });
}

export function useServerConfig() {
  return useQuery({
    queryKey: keys.config,
    queryFn: ({ signal }) => api.getConfig(signal),
    staleTime: Infinity,
  });
}

export function useRuns(filters: RunFilters) {
  return useQuery({
    queryKey: keys.runList(filters),
    queryFn: ({ signal }) => api.listRuns(filters, signal),
    // Paging and filtering keep the old rows on screen until the new page arrives.
    placeholderData: keepPreviousData,
  });
}

export function useRun(id: string, options: { enabled?: boolean } = {}) {
  const client = useQueryClient();
  return useQuery<RunRecord>({
    enabled: options.enabled ?? true,
    queryKey: keys.run(id),
    queryFn: ({ signal }) => api.getRun(id, signal),
    // Coming from a list, the row's record is shown at once while the full one loads.
    placeholderData: () => findCachedRun(client, id),
  });
}

export function useRunMetrics(id: string) {
  return useQuery({
    queryKey: keys.metrics(id),
    queryFn: ({ signal }) => api.getMetrics(id, signal),
  });
}

// Module-level, so TanStack Query can keep the combined result stable between renders.
function combineMetrics(results: UseQueryResult<MetricsResponse>[]) {
  return { data: results.map((r) => r.data), pending: results.some((r) => r.isPending) };
}

/** Metrics of several runs at once, for the comparison chart. */
export function useRunsMetrics(ids: readonly string[]) {
  return useQueries({
    queries: ids.map((id) => ({
      queryKey: keys.metrics(id),
      queryFn: ({ signal }: { signal: AbortSignal }) => api.getMetrics(id, signal),
    })),
    combine: combineMetrics,
  });
}

function combineRuns(results: UseQueryResult<RunRecord>[]) {
  return {
    data: results.map((r) => r.data),
    pending: results.some((r) => r.isPending),
    error: results.find((r) => r.error)?.error ?? null,
  };
}

/** Several runs by id (History's comparison, whose runs may be on no page shown); the event
 * stream keeps each current like a run page's. */
export function useRunsById(ids: readonly string[]) {
  const client = useQueryClient();
  return useQueries({
    queries: ids.map((id) => ({
      queryKey: keys.run(id),
      queryFn: ({ signal }: { signal: AbortSignal }) => api.getRun(id, signal),
      placeholderData: () => findCachedRun(client, id),
    })),
    combine: combineRuns,
  });
}

export function useStartRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: StartRunRequest) => api.startRun(body),
    onSuccess: (run: RunRecord) => applyRunRecord(client, run),
  });
}

/** A queued run's priority; the server answers 409 once the run has started or ended. */
export function useChangePriority() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, priority }: { id: string; priority: number }) => api.changeRun(id, { priority }),
    onSuccess: (run: RunRecord) => applyRunRecord(client, run),
  });
}

export function useStopRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.stopRun(id),
    onSuccess: (run: RunRecord) => applyRunRecord(client, run),
  });
}

/** The server's GPUs; `gpus.updated` events write the answer in place (events.ts). */
export function useGpus() {
  return useQuery({
    queryKey: keys.gpus,
    queryFn: ({ signal }) => api.getGpus(signal),
  });
}

/** The catalog's tasks by id (empty while it loads). */
export function useTaskMap(): ReadonlyMap<string, Task> {
  const { data } = useCatalog();
  return useMemo(() => new Map((data?.tasks ?? []).map((task) => [task.id, task])), [data]);
}
