import { Link } from "react-router";
import { isActive, type RunRecord, type Task } from "../api/types";
import { StatusBadge } from "./StatusBadge";
import { StopButton } from "./StopButton";

/** Title, status and the run's actions: stop while it goes, re-run with changes always. */
export function RunHeader({ run, task }: { run: RunRecord; task: Task | undefined }) {
  const rerun = `/launch/${encodeURIComponent(run.taskId)}?from=${encodeURIComponent(run.id)}`;
  return (
    <div className="page-head">
      <div>
        <h1>
          {task?.title ?? run.taskId} <StatusBadge status={run.status} />
        </h1>
        <p className="muted mono" data-testid="run-id">
          {run.id}
        </p>
      </div>
      <div className="actions">
        {isActive(run.status) && <StopButton run={run} />}
        <Link className="button" to={rerun} data-testid="rerun-button">
          Re-run with changes
        </Link>
      </div>
    </div>
  );
}
