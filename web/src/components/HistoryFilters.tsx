import { ALL_STATUSES, type RunStatus, type Task } from "../api/types";
import type { HistoryFilterValues } from "../lib/historyParams";

interface Props {
  value: HistoryFilterValues;
  tasks: readonly Task[];
  onChange: (value: HistoryFilterValues) => void;
}

export function HistoryFilters({ value, tasks, onChange }: Props) {
  const toggle = (status: RunStatus, on: boolean) => {
    const statuses = on ? [...value.statuses, status] : value.statuses.filter((s) => s !== status);
    onChange({ ...value, statuses: ALL_STATUSES.filter((s) => statuses.includes(s)) });
  };
  return (
    <form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <label>
        Task
        <select
          value={value.taskId}
          onChange={(e) => onChange({ ...value, taskId: e.target.value })}
          data-testid="history-filter-task"
        >
          <option value="">All tasks</option>
          {tasks.map((task) => (
            <option key={task.id} value={task.id}>
              {task.title ?? task.id}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Status</legend>
        {ALL_STATUSES.map((status) => (
          <label key={status} className="inline">
            <input
              type="checkbox"
              checked={value.statuses.includes(status)}
              onChange={(e) => toggle(status, e.target.checked)}
              data-testid={`history-filter-status-${status}`}
            />
            {status}
          </label>
        ))}
      </fieldset>
      <label>
        From
        <input
          type="date"
          value={value.from}
          max={value.to || undefined}
          onChange={(e) => onChange({ ...value, from: e.target.value })}
          data-testid="history-filter-from"
        />
      </label>
      <label>
        To
        <input
          type="date"
          value={value.to}
          min={value.from || undefined}
          onChange={(e) => onChange({ ...value, to: e.target.value })}
          data-testid="history-filter-to"
        />
      </label>
    </form>
  );
}
