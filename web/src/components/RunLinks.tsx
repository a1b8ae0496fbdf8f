import { Link } from "react-router";
import { useServerConfig } from "../api/queries";
import type { RunRecord, Task } from "../api/types";
import { tensorboardRunUrl } from "../lib/mlflow";

/** Where else the run is recorded: its MLflow run on VTM's MLflow page (by the id the trainer
 * reported, else looked up by the run's vtm.run_id tag: only offered when the task's catalog
 * entry says it logs to MLflow), and TensorBoard when the server knows one (the MLflow UI link
 * is in the status card). */
export function RunLinks({ run, task }: { run: RunRecord; task: Task | undefined }) {
  const config = useServerConfig();
  const tensorboard = config.data?.tensorboardUrl;
  const mlflow = run.mlflowRunId
    ? `/mlflow/runs/${encodeURIComponent(run.mlflowRunId)}`
    : task?.mlflow
      ? `/mlflow/vtm/${encodeURIComponent(run.id)}`
      : null;
  if (!mlflow && !tensorboard) return null;
  return (
    <nav className="run-links" aria-label="This run elsewhere">
      {mlflow && (
        <Link className="button small" to={mlflow} data-testid="run-link-mlflow">
          {run.mlflowRunId ? "MLflow run" : "Find MLflow run"}
        </Link>
      )}
      {tensorboard && (
        <a
          className="button small"
          href={tensorboardRunUrl(tensorboard, run.id)}
          target="_blank"
          rel="noreferrer"
          data-testid="run-link-tensorboard"
        >
          TensorBoard ↗
        </a>
      )}
    </nav>
  );
}
