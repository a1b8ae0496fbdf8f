import { useState, type FormEvent } from "react";
import { HttpError, describeError } from "../api/errors";
import { useStartRun } from "../api/queries";
import type { RunRecord, Task } from "../api/types";
import { checkFields, fieldOfServerError, initialFormValues, type FormValue } from "../lib/fields";
import { FieldInput } from "./FieldInput";

interface Props {
  task: Task;
  /** An earlier run's resolved fields, for "Re-run with changes". */
  initial?: Record<string, unknown>;
  onLaunched: (run: RunRecord) => void;
}

function focusField(name: string | undefined): void {
  if (name) document.getElementById(`field-${name}`)?.focus();
}

/** Splits a 422's per-field messages into this form's fields and the rest. */
function serverErrors(error: HttpError, task: Task) {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const { field, message } of error.fields) {
    const name = fieldOfServerError(field);
    if (task.fields.some((f) => f.name === name)) {
      byField[name] = byField[name] ? `${byField[name]}; ${message}` : message;
    } else {
      other.push(`${field}: ${message}`);
    }
  }
  return { byField, other };
}

/** The launch form for one task, built from its catalog fields. */
export function LaunchForm({ task, initial, onLaunched }: Props) {
  const [values, setValues] = useState(() => initialFormValues(task.fields, initial));
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
    setErrors(checked.errors);
    setFormError(null);
    const invalid = Object.keys(checked.errors);
    if (invalid.length) return focusField(invalid[0]);
    start.mutate(
      { taskId: task.id, fields: checked.values },
      {
        onSuccess: (run) => onLaunched(run),
        onError: (error) => {
          if (error instanceof HttpError && error.fields.length) {
            const { byField, other } = serverErrors(error, task);
            setErrors(byField);
            setFormError(other.length ? other.join("; ") : "The server refused some values.");
            focusField(Object.keys(byField)[0]);
          } else {
            setFormError(describeError(error));
          }
        },
      },
    );
  };

  const reset = () => {
    setValues(initialFormValues(task.fields));
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
