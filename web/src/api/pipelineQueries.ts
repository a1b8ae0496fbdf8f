// TanStack Query hooks for the Pipelines page. Airflow pushes nothing and every status read
// costs VTM a few calls to Airflow's REST API, so these poll modestly: the status every 10 s
// while a DAG run is queued or running, else every 30 s; the catalog's pipelines every 60 s
// (a catalog change is rare). Not while the tab is hidden (TanStack's default).
import { useQuery } from "@tanstack/react-query";
import { api } from "./client";
import { keys } from "./keys";
import type { PipelinesStatus } from "./types";

export const ACTIVE_MS = 10_000;
export const IDLE_MS = 30_000;
export const LIST_MS = 60_000;

const ACTIVE_DAG_RUN_STATES = new Set(["queued", "running"]);

export function anyDagRunActive(status: PipelinesStatus | undefined): boolean {
  return status?.pipelines.some((p) => p.dagRuns.some((r) => ACTIVE_DAG_RUN_STATES.has(r.state))) ?? false;
}

export function usePipelines() {
  return useQuery({
    queryKey: keys.pipelineList,
    queryFn: ({ signal }) => api.getPipelines(signal),
    refetchInterval: LIST_MS,
  });
}

export function usePipelinesStatus() {
  return useQuery({
    queryKey: keys.pipelineStatus,
    queryFn: ({ signal }) => api.getPipelinesStatus(signal),
    refetchInterval: (query) =>
      anyDagRunActive(query.state.data as PipelinesStatus | undefined) ? ACTIVE_MS : IDLE_MS,
  });
}
