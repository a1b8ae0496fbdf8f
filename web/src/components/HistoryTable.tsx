import { Link } from "react-router";
import type { RunRecord, Task } from "../api/types";
import { formatDateTime, formatDuration } from "../lib/format";
import { primaryMetric } from "../lib/metrics";
import { runDuration } from "../lib/progress";
import { useNow } from "../lib/useNow";
import { StatusBadge } from "./StatusBadge";

interface Props {
  runs: readonly RunRecord[];
  tasks: ReadonlyMap<string, Task>;
  selected: ReadonlySet<string>;
  /** False once four runs are picked: the rest of the boxes are disabled. */
  canSelectMore: boolean;
  onToggle: (run: RunRecord, on: boolean) => void;
}

export function HistoryTable({ runs, tasks, selected, canSelectMore, onToggle }: Props) {
  const now = useNow();
  return (
    <div className="table-scroll">
      <table className="runs-table" data-testid="history-table">
        <thead>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Run</th>
            <th scope="col">Task</th>
            <th scope="col">Status</th>
            <th scope="col">Primary metric</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
            <th scope="col">Exit</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const task = tasks.get(run.taskId);
            const metric = primaryMetric(run, task);
            const checked = selected.has(run.id);
            return (
              <tr key={run.id} data-testid={`run-row-${run.id}`}>
                <td>
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={!checked && !canSelectMore}
                    onChange={(e) => onToggle(run, e.target.checked)}
                    aria-label={`Compare run ${run.id}`}
                    data-testid={`compare-${run.id}`}
                  />
                </td>
                <td>
                  <Link to={`/runs/${run.id}`} className="mono">
                    {run.id}
                  </Link>
                </td>
                <td>{task?.title ?? run.taskId}</td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>{metric.name ? `${metric.name} ${metric.text}` : "—"}</td>
                <td>{formatDateTime(run.createdAt)}</td>
                <td>{formatDuration(runDuration(run, now))}</td>
                <td>{run.exitCode ?? "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
