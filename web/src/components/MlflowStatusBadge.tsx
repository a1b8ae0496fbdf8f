import { statusClass } from "../lib/mlflowView";

/** An MLflow run's status (RUNNING, FINISHED, FAILED, KILLED, SCHEDULED) as a badge. */
export function MlflowStatusBadge({ status }: { status: string }) {
  return (
    <span className={statusClass(status)} data-testid="mlflow-run-status" data-status={status}>
      {status.toLowerCase()}
    </span>
  );
}
