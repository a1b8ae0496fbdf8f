// Friendly names for the generated wire types; the shapes themselves come from the server.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type RunRecord = Schemas["RunRecord"];
export type RunStatus = Schemas["RunStatus"];
export type RunPage = Schemas["RunPage"];
export type CatalogResponse = Schemas["CatalogResponse"];
export type CatalogErrorInfo = Schemas["CatalogErrorOut"];
export type Task = Schemas["TaskOut"];
export type CatalogField = Schemas["FieldOut"];
export type FieldType = Schemas["FieldType"];
export type Scalar = NonNullable<CatalogField["default"]>;
export type LogPage = Schemas["LogPage"];
export type MetricsResponse = Schemas["MetricsResponse"];
export type MetricPoint = Schemas["MetricPointOut"];
export type ServerConfig = Schemas["ServerConfig"];
export type ErrorBody = Schemas["ErrorBody"];
export type FieldErrorInfo = Schemas["FieldErrorOut"];
export type StartRunRequest = Schemas["StartRunRequest"];
export type Executor = Schemas["TaskOut"]["executor"];
export type RunChange = Schemas["RunChange"];
export type QueueInfo = Schemas["QueueOut"];
// GPUs (/api/gpus and `gpus.updated` events)
export type Gpu = Schemas["GpuOut"];
export type GpusResponse = Schemas["GpusResponse"];

// MLflow Ops (/api/mlflow/...)
export type MlflowStatus = Schemas["MlflowStatusOut"];
export type MlflowExperiment = Schemas["ExperimentOut"];
export type MlflowRun = Schemas["MlflowRunOut"];
export type MlflowRunList = Schemas["MlflowRunList"];
export type MlflowRunDetail = Schemas["MlflowRunDetail"];
export type LoggedModel = Schemas["LoggedModelOut"];
export type MetricHistory = Schemas["MetricHistory"];
export type ArtifactListing = Schemas["ArtifactListing"];
export type ArtifactEntry = Schemas["ArtifactEntry"];
export type RunComparison = Schemas["RunComparison"];
export type CompareRow = Schemas["CompareRow"];
export type RegisteredModel = Schemas["RegisteredModelOut"];
export type ModelVersion = Schemas["ModelVersionOut"];
export type LinkedMlflowRun = Schemas["LinkedMlflowRun"];
// Pipelines (/api/pipelines, /api/pipelines/status)
export type Pipeline = Schemas["PipelineOut"];
export type PipelineStep = Schemas["PipelineStepOut"];
export type PipelinesResponse = Schemas["PipelinesResponse"];
export type PipelinesStatus = Schemas["PipelinesStatusResponse"];
export type PipelineStatus = Schemas["PipelineStatus"];
export type DagRun = Schemas["PipelineDagRun"];
export type DagTask = Schemas["PipelineTaskState"];
export type RunOrigin = Schemas["RunOrigin"];
export type AirflowContext = Schemas["AirflowContext"];
/** Whose artifacts: a run's, or a logged model's (MLflow 3 keeps models beside the runs). */
/** Whose files a listing shows: an MLflow run's or logged model's artifacts, or what a VTM
 * run's trainer wrote in its work folder (runner.workdir: run). */
export type ArtifactOwner =
  { kind: "run"; id: string } | { kind: "model"; id: string } | { kind: "work"; id: string };

export const ACTIVE_STATUSES: readonly RunStatus[] = ["queued", "running"];
export const FINISHED_STATUSES: readonly RunStatus[] = ["completed", "failed", "stopped"];
/** The bounds of a run's priority (POST /api/runs/start, PATCH /api/runs/{id}). */
export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;
export const ALL_STATUSES: readonly RunStatus[] = [...ACTIVE_STATUSES, ...FINISHED_STATUSES];

export function isActive(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** What GET /api/runs can filter on; also the identity of a cached run list. */
export interface RunFilters {
  status?: RunStatus[];
  taskId?: string;
  /** ISO timestamps: created at or after / strictly before. */
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
}
