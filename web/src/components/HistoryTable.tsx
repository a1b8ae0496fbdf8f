import { Fragment } from "react";
import { Link } from "react-router";
import type { RunRecord, Task } from "../api/types";
import { formatDateTime, formatDuration } from "../lib/format";
import { primaryMetric } from "../lib/metrics";
import { runDuration } from "../lib/progress";
import { useNow } from "../lib/useNow";
import { FieldValue } from "./FieldValue";
import { StatusBadge } from "./StatusBadge";

/** A run id that a narrow column may wrap after its dashes (20261126-/120000-/aaaaaa). */
function BreakableId({ id }: { id: string }) {
  const parts = id.split("-");
  return parts.map((part, i) => (
    <Fragment key={i}>
      {part}
      {i < parts.length - 1 && (
        <>
          -<wbr />
        </>
      )}
    </Fragment>
  ));
}

interface Props {
  runs: readonly RunRecord[];
  tasks: ReadonlyMap<string, Task>;
  selected: ReadonlySet<string>;
  /** False once four runs are picked: the rest of the boxes are disabled. */
  canSelectMore: boolean;
  onToggle: (run: RunRecord, on: boolean) => void;
  /** Fields shown as columns of their own (the person picks them). */
  fieldColumns: readonly string[];
}

// Columns in priority order: what a phone must show without scrolling sideways (the run, its
// status and primary metric) first; `col-secondary` ones are hidden on narrow screens.
export function HistoryTable({ runs, tasks, selected, canSelectMore, onToggle, fieldColumns }: Props) {
  const now = useNow();
  return (
    <div className="table-scroll">
      <table className="runs-table history-table" data-testid="history-table">
        <thead>
          <tr>
            <th scope="col" className="col-select">
              <span className="col-select-label">Compare</span>
            </th>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Primary metric</th>
            <th scope="col">Task</th>
            {fieldColumns.map((name) => (
              <th scope="col" key={name} className="mono" data-testid={`history-field-head-${name}`}>
                {name}
              </th>
            ))}
            <th scope="col" className="col-secondary">
              Created
            </th>
            <th scope="col" className="col-secondary">
              Duration
            </th>
            <th scope="col" className="col-secondary">
              Exit
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const task = tasks.get(run.taskId);
            const metric = primaryMetric(run, task);
            const checked = selected.has(run.id);
            return (
              <tr key={run.id} data-testid={`run-row-${run.id}`}>
                <td className="col-select">
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={!checked && !canSelectMore}
                    onChange={(e) => onToggle(run, e.target.checked)}
                    aria-label={`Compare run ${run.id}`}
                    data-testid={`compare-${run.id}`}
                  />
                </td>
                <td className="run-id-cell">
                  <Link to={`/runs/${run.id}`} className="mono">
                    <BreakableId id={run.id} />
                  </Link>
                </td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td className="metric-cell" data-testid="history-metric">
                  {metric.name ? (
                    <>
                      <span className="metric-name">{metric.name}</span> {metric.text}
                    </>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{task?.title ?? run.taskId}</td>
                {fieldColumns.map((name) => (
                  <td key={name} className="mono small" data-testid={`history-field-${name}`}>
                    <FieldValue fields={run.fields} name={name} />
                  </td>
                ))}
                <td className="col-secondary">{formatDateTime(run.createdAt)}</td>
                <td className="col-secondary">{formatDuration(runDuration(run, now))}</td>
                <td className="col-secondary">{run.exitCode ?? "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
