import { Link } from "react-router";
import type { Task } from "../api/types";
import { InlineCode } from "./InlineCode";

/** The catalog's tasks; the chosen one is marked for screen readers too. */
export function TaskPicker({ tasks, selected }: { tasks: readonly Task[]; selected?: string }) {
  return (
    <nav aria-label="Tasks" className="task-picker">
      <ul>
        {tasks.map((task) => (
          <li key={task.id}>
            <Link
              to={`/launch/${encodeURIComponent(task.id)}`}
              className="task-card"
              aria-current={task.id === selected ? "page" : undefined}
              data-testid={`task-${task.id}`}
            >
              <strong>{task.title ?? task.id}</strong>
              <span className="muted mono">{task.id}</span>
              {task.description && (
                <span className="task-description">
                  <InlineCode text={task.description} />
                </span>
              )}
              <span className="muted">
                {task.baseTaskType}
                {task.primaryMetric && ` · ${task.primaryMetric.name} (${task.primaryMetric.goal})`}
                {task.gpus > 0 && ` · ${task.gpus} GPU${task.gpus > 1 ? "s" : ""}`}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
