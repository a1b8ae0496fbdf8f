import { useServerConfig } from "../api/queries";
import type { RunRecord } from "../api/types";
import { mlflowRunUrl } from "../lib/mlflow";

/** The run's MLflow id, linked when the server knows where the tracking UI is. */
export function MlflowLink({ run }: { run: RunRecord }) {
  const config = useServerConfig();
  if (!run.mlflowRunId) return <span className="muted">—</span>;
  const base = config.data?.mlflowUiUrl;
  if (!base)
    return (
      <span className="mono" data-testid="mlflow-run-id">
        {run.mlflowRunId}
      </span>
    );
  return (
    <a
      className="mono"
      data-testid="mlflow-run-id"
      href={mlflowRunUrl(base, run.mlflowRunId, run.meta)}
      target="_blank"
      rel="noreferrer"
    >
      {run.mlflowRunId} ↗
    </a>
  );
}
