// TanStack Query hooks for the MLflow page. MLflow pushes nothing, so these poll, and only as
// often as the data can change: every 10 s while a run is RUNNING, 30 s (or never) otherwise.
// Polls stop while the tab is hidden (TanStack's default); the pages' Refresh button
// invalidates everything under keys.mlflow at once.
import { keepPreviousData, useQueries, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { api } from "./client";
import { keys } from "./keys";
import type { ArtifactOwner, MetricHistory, MlflowRunDetail, MlflowRunList } from "./types";

export const LIVE_MS = 10_000;
export const IDLE_MS = 30_000;
export const CREATING_MS = 1_000;
/** Runs asked for per experiment: the newest ones; the server's cap is 1000. */
export const RUNS_PER_EXPERIMENT = 200;

const isRunning = (status: string | undefined) => status === "RUNNING" || status === "SCHEDULED";

export function useMlflowStatus() {
  return useQuery({
    queryKey: keys.mlflowStatus,
    queryFn: ({ signal }) => api.getMlflowStatus(signal),
    // Creating the embedded store takes seconds: ask again soon rather than in 30 s.
    refetchInterval: (query) => (query.state.data?.creating ? CREATING_MS : IDLE_MS),
  });
}

export function useMlflowExperiments() {
  return useQuery({
    queryKey: keys.mlflowExperiments,
    queryFn: ({ signal }) => api.listMlflowExperiments(signal),
    refetchInterval: IDLE_MS,
  });
}

export function useMlflowRuns(experimentId: string) {
  return useQuery({
    queryKey: keys.mlflowRuns(experimentId),
    queryFn: ({ signal }) => api.listMlflowRuns(experimentId, RUNS_PER_EXPERIMENT, signal),
    refetchInterval: (query) =>
      (query.state.data as MlflowRunList | undefined)?.runs.some((r) => isRunning(r.status))
        ? LIVE_MS
        : IDLE_MS,
  });
}

export function useMlflowRun(runId: string) {
  return useQuery({
    queryKey: keys.mlflowRun(runId),
    queryFn: ({ signal }) => api.getMlflowRun(runId, signal),
    refetchInterval: (query) =>
      isRunning((query.state.data as MlflowRunDetail | undefined)?.run.status) ? LIVE_MS : false,
  });
}

function combineHistories(results: UseQueryResult<MetricHistory>[]) {
  return {
    data: results.map((r) => r.data),
    pending: results.some((r) => r.isPending),
    error: results.find((r) => r.error)?.error ?? null,
  };
}

/** Histories of several (run, metric) pairs: one run's metrics, or one metric of several runs. */
export function useMetricHistories(pairs: readonly { runId: string; key: string }[], live: boolean) {
  return useQueries({
    queries: pairs.map(({ runId, key }) => ({
      queryKey: keys.mlflowHistory(runId, key),
      queryFn: ({ signal }: { signal: AbortSignal }) => api.getMetricHistory(runId, key, signal),
      refetchInterval: live ? LIVE_MS : (false as const),
    })),
    combine: combineHistories,
  });
}

export function useArtifacts(owner: ArtifactOwner, path: string) {
  return useQuery({
    queryKey: keys.mlflowArtifacts(owner, path),
    queryFn: ({ signal }) => api.listArtifacts(owner, path, signal),
    // Moving between folders keeps the last listing on screen until the next one arrives.
    placeholderData: keepPreviousData,
  });
}

export function useMlflowCompare(runIds: readonly string[]) {
  return useQuery({
    queryKey: keys.mlflowCompare(runIds),
    queryFn: ({ signal }) => api.compareMlflowRuns(runIds, signal),
    enabled: runIds.length >= 2,
    placeholderData: keepPreviousData,
  });
}

export function useRegisteredModels() {
  return useQuery({
    queryKey: keys.mlflowModels,
    queryFn: ({ signal }) => api.listRegisteredModels(signal),
    refetchInterval: IDLE_MS,
  });
}

export function useLinkedMlflowRun(vtmRunId: string) {
  return useQuery({
    queryKey: keys.mlflowLinked(vtmRunId),
    queryFn: ({ signal }) => api.getLinkedMlflowRun(vtmRunId, signal),
  });
}
