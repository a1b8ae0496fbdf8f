import { useQueryClient } from "@tanstack/react-query";
import { keys } from "../api/keys";
import { usePipelines, usePipelinesStatus } from "../api/pipelineQueries";
import type { PipelineStatus } from "../api/types";
import { AirflowStatusLine } from "../components/AirflowStatusLine";
import { ErrorNotice } from "../components/ErrorNotice";
import { PipelineCard } from "../components/PipelineCard";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { useNow } from "../lib/useNow";

/** The catalog's pipelines and, when VTM can read Airflow, their latest DAG runs. */
export function PipelinesPage() {
  useDocumentTitle("Pipelines");
  const list = usePipelines();
  const status = usePipelinesStatus();
  const client = useQueryClient();
  const now = useNow();
  const data = status.data;
  // Links into Airflow only once VTM has read it: an unreachable URL would only lead nowhere.
  const airflowUrl = data?.configured && !data.error ? (data.airflowUrl ?? null) : null;
  const byId = new Map<string, PipelineStatus>(
    airflowUrl ? (data?.pipelines ?? []).map((p) => [p.pipelineId, p]) : [],
  );
  const pipelines = Object.entries(list.data?.pipelines ?? {});

  return (
    <>
      <div className="page-head">
        <h1>Pipelines</h1>
        <div className="actions">
          {airflowUrl && (
            <a
              className="button small"
              href={airflowUrl}
              target="_blank"
              rel="noreferrer"
              data-testid="airflow-ui-link"
            >
              Airflow UI ↗
            </a>
          )}
          <button
            type="button"
            className="button small"
            onClick={() => void client.invalidateQueries({ queryKey: keys.pipelines })}
            data-testid="pipelines-refresh"
          >
            Refresh
          </button>
        </div>
      </div>
      <p className="muted">
        Multi-step flows declared in the catalog’s <span className="mono">pipelines:</span> section. Apache
        Airflow schedules and runs them (one DAG per pipeline, one task per step); each task starts a VTM run.
      </p>
      <AirflowStatusLine status={status} />
      {list.isError && <ErrorNotice error={list.error} what="The pipelines could not be loaded." />}
      {list.data?.error && (
        <p className="notice notice-error" role="alert" data-testid="pipelines-catalog-error">
          No catalog is loaded: {list.data.error}
        </p>
      )}
      {list.isPending && <p className="muted">Loading…</p>}
      {list.data && !list.data.error && pipelines.length === 0 && (
        <p className="muted" data-testid="pipelines-empty">
          The catalog declares no pipelines. Add a <span className="mono">pipelines:</span> section (see the
          README) and Airflow’s DAGs follow it.
        </p>
      )}
      <div className="stack">
        {pipelines.map(([id, pipeline]) => (
          <PipelineCard
            key={id}
            id={id}
            pipeline={pipeline}
            status={byId.get(id)}
            airflowUrl={airflowUrl}
            now={now}
          />
        ))}
      </div>
    </>
  );
}
