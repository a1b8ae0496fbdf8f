import { Link, Navigate, useParams } from "react-router";
import { HttpError } from "../api/errors";
import { useLinkedMlflowRun } from "../api/mlflowQueries";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowHeader } from "../components/MlflowHeader";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** /mlflow/vtm/<VTM run id>: finds the run's MLflow run (its reported id, else its
 * vtm.run_id tag) and shows it. Finding none is an answer (the server says so with a 200, so
 * that no failed request shows in the browser's console), not an error. */
export function MlflowVtmRunPage() {
  const { vtmRunId = "" } = useParams();
  const linked = useLinkedMlflowRun(vtmRunId);
  useDocumentTitle(`MLflow run of ${vtmRunId}`);
  const found = linked.data?.mlflowRunId;
  if (found) return <Navigate replace to={`/mlflow/runs/${encodeURIComponent(found)}`} />;
  const back = <Link to={`/runs/${encodeURIComponent(vtmRunId)}`}>Back to the run</Link>;
  return (
    <>
      <MlflowHeader title="MLflow run" />
      {linked.data ? (
        <p className="notice" role="status" data-testid="mlflow-no-linked-run">
          VTM run <span className="mono">{vtmRunId}</span> has no MLflow run: its trainer reported none, and
          no MLflow run is tagged <code>vtm.run_id</code> with it. {back}
        </p>
      ) : linked.error instanceof HttpError && linked.error.isNotFound ? (
        <p className="notice notice-error" role="alert" data-testid="mlflow-no-vtm-run">
          {linked.error.message}. {back}
        </p>
      ) : linked.isError ? (
        <ErrorNotice error={linked.error} what="The MLflow run could not be found." />
      ) : (
        <p className="muted">Looking for the MLflow run of {vtmRunId}…</p>
      )}
    </>
  );
}
