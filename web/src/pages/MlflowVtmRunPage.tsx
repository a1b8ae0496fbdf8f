import { Link, Navigate, useParams } from "react-router";
import { HttpError } from "../api/errors";
import { useLinkedMlflowRun } from "../api/mlflowQueries";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowHeader } from "../components/MlflowHeader";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** /mlflow/vtm/<VTM run id>: finds the run's MLflow run (its reported id, else its
 * vtm.run_id tag) and shows it. */
export function MlflowVtmRunPage() {
  const { vtmRunId = "" } = useParams();
  const linked = useLinkedMlflowRun(vtmRunId);
  useDocumentTitle(`MLflow run of ${vtmRunId}`);
  if (linked.data)
    return <Navigate replace to={`/mlflow/runs/${encodeURIComponent(linked.data.mlflowRunId)}`} />;
  return (
    <>
      <MlflowHeader title="MLflow run" />
      {linked.error instanceof HttpError && linked.error.isNotFound ? (
        <p className="notice" role="status" data-testid="mlflow-no-linked-run">
          {linked.error.message}. <Link to={`/runs/${encodeURIComponent(vtmRunId)}`}>Back to the run</Link>
        </p>
      ) : linked.isError ? (
        <ErrorNotice error={linked.error} what="The MLflow run could not be found." />
      ) : (
        <p className="muted">Looking for the MLflow run of {vtmRunId}…</p>
      )}
    </>
  );
}
