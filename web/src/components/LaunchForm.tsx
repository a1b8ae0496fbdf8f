import { useState, type FormEvent } from "react";
import { HttpError, describeError } from "../api/errors";
import { useStartRun } from "../api/queries";
import {
  PRIORITY_MAX,
  PRIORITY_MIN,
  type Executor,
  type RunRecord,
  type StartRunRequest,
  type Task,
} from "../api/types";
import { checkFields, fieldOfServerError, initialFormValues, type FormValue } from "../lib/fields";
import { checkPriority } from "../lib/priority";
import { FieldInput } from "./FieldInput";

const PRIORITY_ID = "launch-priority";
const EXECUTOR_ID = "launch-executor";
const EXECUTOR_LABELS: Record<Executor, string> = {
  local: "This server's machine",
  ray: "The Ray cluster",
};

interface Props {
  task: Task;
  /** An earlier run's resolved fields, for "Re-run with changes". */
  initial?: Record<string, unknown>;
  /** That run's priority, for the same. */
  initialPriority?: number;
  /** Where runs can train on this server (from /api/config); a choice is shown for more than one. */
  executors?: Executor[];
  /** That run's executor, for "Re-run with changes". */
  initialExecutor?: Executor;
  onLaunched: (run: RunRecord) => void;
}

function focusField(name: string | undefined): void {
  if (name) document.getElementById(`field-${name}`)?.focus();
}

/** The request's own `priority` (not a catalog field of that name, which the task would have). */
function isPriorityError(field: string, task: Task): boolean {
  return field === "priority" && !task.fields.some((f) => f.name === "priority");
}

/** Splits a 422's per-field messages into this form's fields, its priority and the rest. */
function serverErrors(error: HttpError, task: Task) {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  let priority: string | null = null;
  for (const { field, message } of error.fields) {
    const name = fieldOfServerError(field);
    if (isPriorityError(field, task)) {
      priority = priority ? `${priority}; ${message}` : message;
    } else if (task.fields.some((f) => f.name === name)) {
      byField[name] = byField[name] ? `${byField[name]}; ${message}` : message;
    } else {
      other.push(`${field}: ${message}`);
    }
  }
  return { byField, other, priority };
}

/** The launch form for one task, built from its catalog fields. */
export function LaunchForm({
  task,
  initial,
  initialPriority,
  executors = ["local"],
  initialExecutor,
  onLaunched,
}: Props) {
  const [values, setValues] = useState(() => initialFormValues(task.fields, initial));
  const [executor, setExecutor] = useState<Executor>(() => initialExecutor ?? task.executor);
  const [priority, setPriority] = useState(() => String(initialPriority ?? task.priority));
  const [priorityUnreadable, setPriorityUnreadable] = useState(false);
  const [priorityError, setPriorityError] = useState<string | null>(null);
  const [badInput, setBadInput] = useState<ReadonlySet<string>>(new Set());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const start = useStartRun();

  const change = (name: string, value: FormValue, bad: boolean) => {
    setValues((current) => ({ ...current, [name]: value }));
    setBadInput((current) => {
      const next = new Set(current);
      if (bad) next.add(name);
      else next.delete(name);
      return next;
    });
    setErrors(({ [name]: _fixed, ...rest }) => rest);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = checkFields(task.fields, values, badInput);
    const rank = checkPriority(priority, priorityUnreadable);
    setErrors(checked.errors);
    setPriorityError("error" in rank ? rank.error : null);
    setFormError(null);
    const invalid = Object.keys(checked.errors);
    if (invalid.length) return focusField(invalid[0]);
    if ("error" in rank) return document.getElementById(PRIORITY_ID)?.focus();
    const body: StartRunRequest = { taskId: task.id, fields: checked.values };
    // Only a priority other than the task's own is sent: the server applies that by itself.
    if ("value" in rank && rank.value !== task.priority) body.priority = rank.value;
    if (executor !== task.executor) body.executor = executor;
    start.mutate(body, {
      onSuccess: (run) => onLaunched(run),
      onError: (error) => {
        if (error instanceof HttpError && error.fields.length) {
          const { byField, other, priority: refused } = serverErrors(error, task);
          setErrors(byField);
          setPriorityError(refused);
          setFormError(other.length ? other.join("; ") : "The server refused some values.");
          const first = Object.keys(byField)[0];
          if (first) focusField(first);
          else if (refused) document.getElementById(PRIORITY_ID)?.focus();
        } else {
          setFormError(describeError(error));
        }
      },
    });
  };

  const reset = () => {
    setValues(initialFormValues(task.fields));
    setPriority(String(task.priority));
    setExecutor(task.executor);
    setPriorityUnreadable(false);
    setPriorityError(null);
    setBadInput(new Set());
    setErrors({});
    setFormError(null);
  };

  return (
    <form className="launch-form" onSubmit={submit} noValidate data-testid="launch-form">
      <div className="field-grid">
        {task.fields.map((field) => (
          <FieldInput
            key={field.name}
            field={field}
            value={values[field.name] ?? ""}
            error={errors[field.name]}
            unreadable={badInput.has(field.name)}
            onChange={change}
          />
        ))}
        <div className={`field field-int${priorityError ? " field-invalid" : ""}`}>
          <label htmlFor={PRIORITY_ID}>Priority</label>
          <input
            id={PRIORITY_ID}
            data-testid={PRIORITY_ID}
            type="number"
            inputMode="numeric"
            step={1}
            min={PRIORITY_MIN}
            max={PRIORITY_MAX}
            placeholder={`default ${task.priority}`}
            value={priority}
            aria-invalid={priorityError ? true : undefined}
            aria-describedby={`${PRIORITY_ID}-help${priorityError ? ` ${PRIORITY_ID}-error` : ""}`}
            onChange={(e) => {
              setPriority(e.target.value);
              setPriorityUnreadable(e.target.validity.badInput);
              setPriorityError(null);
            }}
          />
          <p className="field-help" id={`${PRIORITY_ID}-help`}>
            Its place in the queue while it waits for GPUs: higher starts first. This task&apos;s default is{" "}
            {task.priority}.
            <span className="muted">
              {" "}
              (≥ {PRIORITY_MIN}, ≤ {PRIORITY_MAX})
            </span>
          </p>
          {priorityError && (
            <p className="field-error" id={`${PRIORITY_ID}-error`} data-testid={`${PRIORITY_ID}-error`}>
              {priorityError}
            </p>
          )}
        </div>
        {(executors.length > 1 || executor !== "local") && (
          <div className="field field-choice">
            <label htmlFor={EXECUTOR_ID}>Where it trains</label>
            <select
              id={EXECUTOR_ID}
              data-testid={EXECUTOR_ID}
              value={executor}
              aria-describedby={`${EXECUTOR_ID}-help`}
              onChange={(e) => setExecutor(e.target.value as Executor)}
            >
              {Array.from(new Set<Executor>([...executors, executor])).map((name) => (
                <option key={name} value={name}>
                  {EXECUTOR_LABELS[name]}
                  {name === task.executor ? " (the task's default)" : ""}
                </option>
              ))}
            </select>
            <p className="field-help" id={`${EXECUTOR_ID}-help`}>
              The Ray cluster takes the run once one of its nodes has room for all of its GPUs; until then it
              waits in VTM&apos;s queue.
            </p>
          </div>
        )}
      </div>
      {formError && (
        <p className="notice notice-error" role="alert" data-testid="launch-error">
          {formError}
        </p>
      )}
      <div className="form-actions">
        <button
          type="submit"
          className="button primary"
          data-testid="launch-submit"
          disabled={start.isPending}
        >
          {start.isPending ? "Starting…" : "Start run"}
        </button>
        <button type="button" className="button" onClick={reset} data-testid="launch-reset">
          Reset to defaults
        </button>
      </div>
    </form>
  );
}
