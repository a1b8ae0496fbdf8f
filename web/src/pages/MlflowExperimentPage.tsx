import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { HttpError } from "../api/errors";
import { RUNS_PER_EXPERIMENT, useMlflowRuns } from "../api/mlflowQueries";
import { useCatalog } from "../api/queries";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowComparePanel } from "../components/MlflowComparePanel";
import { MlflowHeader } from "../components/MlflowHeader";
import { MlflowRunsTable } from "../components/MlflowRunsTable";
import { columnKeys, primaryMetricKey, readCompare, writeCompare } from "../lib/mlflowView";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** As many as the chart has colours for (the server takes up to 10). */
export const MAX_MLFLOW_COMPARE = 4;

/** An experiment's runs with their params and latest metrics; pick runs to compare (kept in
 * the address as ?compare=a,b so that a comparison can be shared). */
export function MlflowExperimentPage() {
  const { experimentId = "" } = useParams();
  // A fresh page (and selection) per experiment.
  return <ExperimentRuns key={experimentId} experimentId={experimentId} />;
}

function ExperimentRuns({ experimentId }: { experimentId: string }) {
  const [params, setParams] = useSearchParams();
  const runs = useMlflowRuns(experimentId);
  const catalog = useCatalog();
  const name = runs.data?.experiment.name;
  useDocumentTitle(name ? `${name} · MLflow` : "MLflow experiment");
  // Held as state, not only read from the address: a router navigation lands a moment after
  // the click, and a controlled checkbox would snap back meanwhile.
  const [compare, setCompareState] = useState(() => readCompare(params).slice(0, MAX_MLFLOW_COMPARE));
  const setCompare = (ids: string[]) => {
    setCompareState(ids);
    setParams((current) => writeCompare(current, ids), { replace: true });
  };
  const toggle = (runId: string, on: boolean) =>
    setCompare(on ? [...compare, runId].slice(0, MAX_MLFLOW_COMPARE) : compare.filter((id) => id !== runId));

  if (runs.error instanceof HttpError && runs.error.isNotFound) {
    return (
      <>
        <MlflowHeader title="MLflow" />
        <p className="notice notice-error" role="alert">
          There is no MLflow experiment <span className="mono">{experimentId}</span>.{" "}
          <Link to="/mlflow">All experiments</Link>
        </p>
      </>
    );
  }
  const list = runs.data?.runs;
  const primary = primaryMetricKey(name, catalog.data?.tasks ?? [], columnKeys(list ?? [], "metrics"));
  return (
    <>
      <MlflowHeader
        title={
          <>
            <Link to="/mlflow" className="muted">
              MLflow
            </Link>{" "}
            / <span data-testid="mlflow-experiment-name">{name ?? experimentId}</span>
          </>
        }
      />
      {compare.length > 0 && <MlflowComparePanel runIds={compare} onClear={() => setCompare([])} />}
      {runs.isError && <ErrorNotice error={runs.error} what="The runs could not be loaded." />}
      {runs.isPending && <p className="muted">Loading…</p>}
      {list && list.length === 0 && <p className="muted">This experiment has no runs.</p>}
      {list && list.length > 0 && (
        <>
          <p className="muted small">
            {list.length === RUNS_PER_EXPERIMENT ? `The newest ${list.length} runs` : `${list.length} runs`},
            newest first. Tick two to {MAX_MLFLOW_COMPARE} to compare them.
          </p>
          <MlflowRunsTable
            runs={list}
            selected={new Set(compare)}
            canSelectMore={compare.length < MAX_MLFLOW_COMPARE}
            onToggle={toggle}
            primaryMetric={primary}
          />
        </>
      )}
    </>
  );
}
