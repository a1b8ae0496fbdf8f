// Query keys in one place: events.ts and cache.ts find cached data by these prefixes.
import type { ArtifactOwner, RunFilters } from "./types";

/** Drops empty filter values so that equal filters give equal keys. */
export function normalizeFilters(filters: RunFilters): RunFilters {
  const out: RunFilters = {};
  if (filters.status?.length) out.status = [...filters.status].sort();
  if (filters.taskId) out.taskId = filters.taskId;
  if (filters.createdAfter) out.createdAfter = filters.createdAfter;
  if (filters.createdBefore) out.createdBefore = filters.createdBefore;
  if (filters.limit !== undefined) out.limit = filters.limit;
  if (filters.cursor) out.cursor = filters.cursor;
  return out;
}

export const keys = {
  catalog: ["catalog"] as const,
  config: ["config"] as const,
  /** Everything about runs: lists, details, metrics. */
  runs: ["runs"] as const,
  runLists: ["runs", "list"] as const,
  runList: (filters: RunFilters) => ["runs", "list", normalizeFilters(filters)] as const,
  run: (id: string) => ["runs", "detail", id] as const,
  metrics: (id: string) => ["runs", "metrics", id] as const,
  /** The server's GPUs and who holds them (`gpus.updated` events write it). */
  gpus: ["gpus"] as const,
  /** Everything read from MLflow (the MLflow page's Refresh invalidates this prefix). */
  mlflow: ["mlflow"] as const,
  mlflowStatus: ["mlflow", "status"] as const,
  mlflowExperiments: ["mlflow", "experiments"] as const,
  mlflowRuns: (experimentId: string) => ["mlflow", "runs", experimentId] as const,
  mlflowRun: (runId: string) => ["mlflow", "run", runId] as const,
  mlflowHistory: (runId: string, key: string) => ["mlflow", "history", runId, key] as const,
  mlflowArtifacts: (owner: ArtifactOwner, path: string) =>
    ["mlflow", "artifacts", owner.kind, owner.id, path] as const,
  mlflowCompare: (runIds: readonly string[]) => ["mlflow", "compare", ...runIds] as const,
  mlflowModels: ["mlflow", "registered-models"] as const,
  mlflowLinked: (vtmRunId: string) => ["mlflow", "vtm-run", vtmRunId] as const,
  /** The catalog's pipelines and what Airflow made of them (the page's Refresh). */
  pipelines: ["pipelines"] as const,
  pipelineList: ["pipelines", "list"] as const,
  pipelineStatus: ["pipelines", "status"] as const,
};
