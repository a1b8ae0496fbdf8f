// The one place that talks HTTP to VTM: a typed openapi-fetch client over the generated schema,
// with every failure turned into an ApiError (see errors.ts).
import createClient from "openapi-fetch";
import { HttpError, NetworkError, httpErrorOf } from "./errors";
import type { paths } from "./schema";
import { getToken } from "./token";
import type { ArtifactOwner, RunChange, RunFilters, StartRunRequest } from "./types";

export interface ApiOptions {
  /** Origin of the VTM server; the page's own origin by default. */
  baseUrl?: string;
  /** Looked up on every call, so tests may stub globalThis.fetch after creation. */
  fetch?: (request: Request) => Promise<Response>;
  token?: () => string | null;
}

type Result<T> = { data?: T; error?: unknown; response: Response };

function defaultBaseUrl(): string {
  // openapi-fetch builds `new Request(url)`, which needs an absolute URL outside a browser.
  return typeof window === "undefined" ? "http://localhost" : window.location.origin;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

async function call<T>(pending: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await pending;
  } catch (error) {
    if (isAbort(error)) throw error; // TanStack Query cancelled it: not a failure
    throw new NetworkError("the VTM server cannot be reached", { cause: error });
  }
  if (!result.response.ok) throw httpErrorOf(result.response, result.error);
  if (result.data === undefined) {
    throw new HttpError(result.response.status, "empty_response", "the server sent no body");
  }
  return result.data;
}

function runListQuery(filters: RunFilters) {
  return {
    status: filters.status?.length ? filters.status : undefined,
    taskId: filters.taskId || undefined,
    createdAfter: filters.createdAfter || undefined,
    createdBefore: filters.createdBefore || undefined,
    limit: filters.limit,
    cursor: filters.cursor || undefined,
  };
}

export function createApi(options: ApiOptions = {}) {
  const token = options.token ?? getToken;
  const fetcher = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const baseUrl = options.baseUrl ?? defaultBaseUrl();
  const client = createClient<paths>({ baseUrl, fetch: fetcher });
  client.use({
    onRequest({ request }) {
      const value = token();
      if (value) request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  });
  const run = (id: string) => ({ path: { run_id: id } });

  return {
    getCatalog: (signal?: AbortSignal) => call(client.GET("/api/catalog", { signal })),
    getConfig: (signal?: AbortSignal) => call(client.GET("/api/config", { signal })),
    listRuns: (filters: RunFilters, signal?: AbortSignal) =>
      call(client.GET("/api/runs", { params: { query: runListQuery(filters) }, signal })),
    getRun: (id: string, signal?: AbortSignal) =>
      call(client.GET("/api/runs/{run_id}", { params: run(id), signal })),
    startRun: (body: StartRunRequest) => call(client.POST("/api/runs/start", { body })),
    stopRun: (id: string) => call(client.POST("/api/runs/{run_id}/stop", { params: run(id) })),
    /** A queued run's new priority (409 once it is no longer queued). */
    changeRun: (id: string, body: RunChange) =>
      call(client.PATCH("/api/runs/{run_id}", { params: run(id), body })),
    getGpus: (signal?: AbortSignal) => call(client.GET("/api/gpus", { signal })),
    getLogs: (id: string, offset: number, limit: number, signal?: AbortSignal) =>
      call(
        client.GET("/api/runs/{run_id}/logs", {
          params: { ...run(id), query: { offset, limit } },
          signal,
        }),
      ),
    getMetrics: (id: string, signal?: AbortSignal) =>
      call(client.GET("/api/runs/{run_id}/metrics", { params: run(id), signal })),
    getMlflowStatus: (signal?: AbortSignal) => call(client.GET("/api/mlflow/status", { signal })),
    listMlflowExperiments: (signal?: AbortSignal) => call(client.GET("/api/mlflow/experiments", { signal })),
    listMlflowRuns: (experimentId: string, maxResults: number, signal?: AbortSignal) =>
      call(
        client.GET("/api/mlflow/experiments/{experiment_id}/runs", {
          params: { path: { experiment_id: experimentId }, query: { maxResults } },
          signal,
        }),
      ),
    getMlflowRun: (runId: string, signal?: AbortSignal) =>
      call(client.GET("/api/mlflow/runs/{run_id}", { params: run(runId), signal })),
    getMetricHistory: (runId: string, key: string, signal?: AbortSignal) =>
      call(
        client.GET("/api/mlflow/runs/{run_id}/metric-history", {
          params: { ...run(runId), query: { key } },
          signal,
        }),
      ),
    listArtifacts: (owner: ArtifactOwner, path: string, signal?: AbortSignal) => {
      const query = { query: { path } };
      if (owner.kind === "work") {
        return call(
          client.GET("/api/runs/{run_id}/files", { params: { ...run(owner.id), ...query }, signal }),
        );
      }
      return owner.kind === "run"
        ? call(
            client.GET("/api/mlflow/runs/{run_id}/artifacts", {
              params: { ...run(owner.id), ...query },
              signal,
            }),
          )
        : call(
            client.GET("/api/mlflow/logged-models/{model_id}/artifacts", {
              params: { path: { model_id: owner.id }, ...query },
              signal,
            }),
          );
    },
    /** A file's bytes, fetched with the token header (for when a plain link cannot carry it). */
    downloadArtifact: (owner: ArtifactOwner, path: string) => {
      const query = { query: { path } };
      if (owner.kind === "work") {
        return call(
          client.GET("/api/runs/{run_id}/files/download", {
            params: { ...run(owner.id), ...query },
            parseAs: "blob",
          }),
        );
      }
      return owner.kind === "run"
        ? call(
            client.GET("/api/mlflow/runs/{run_id}/artifacts/download", {
              params: { ...run(owner.id), ...query },
              parseAs: "blob",
            }),
          )
        : call(
            client.GET("/api/mlflow/logged-models/{model_id}/artifacts/download", {
              params: { path: { model_id: owner.id }, ...query },
              parseAs: "blob",
            }),
          );
    },
    /** The download's address, for a plain link (no token in it: see downloadArtifact). */
    artifactDownloadUrl: (owner: ArtifactOwner, path: string): string => {
      const id = encodeURIComponent(owner.id);
      const route = {
        run: `/api/mlflow/runs/${id}/artifacts/download`,
        model: `/api/mlflow/logged-models/${id}/artifacts/download`,
        work: `/api/runs/${id}/files/download`,
      }[owner.kind];
      const url = new URL(route, baseUrl);
      url.searchParams.set("path", path);
      return url.toString();
    },
    compareMlflowRuns: (runIds: readonly string[], signal?: AbortSignal) =>
      call(client.GET("/api/mlflow/compare", { params: { query: { runId: [...runIds] } }, signal })),
    listRegisteredModels: (signal?: AbortSignal) =>
      call(client.GET("/api/mlflow/registered-models", { signal })),
    getLinkedMlflowRun: (vtmRunId: string, signal?: AbortSignal) =>
      call(
        client.GET("/api/mlflow/vtm-runs/{vtm_run_id}", {
          params: { path: { vtm_run_id: vtmRunId } },
          signal,
        }),
      ),
    getPipelines: (signal?: AbortSignal) => call(client.GET("/api/pipelines", { signal })),
    getPipelinesStatus: (signal?: AbortSignal) => call(client.GET("/api/pipelines/status", { signal })),
    /** The SSE endpoint; EventSource cannot send headers, so the token rides in the query. */
    eventsUrl: (): string => {
      const url = new URL("/api/events", baseUrl);
      const value = token();
      if (value) url.searchParams.set("token", value);
      return url.toString();
    },
  };
}

export type Api = ReturnType<typeof createApi>;

export const api: Api = createApi();
