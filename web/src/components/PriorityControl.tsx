import { useId, useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import { useChangePriority } from "../api/queries";
import { PRIORITY_MAX, PRIORITY_MIN, type RunRecord } from "../api/types";
import { checkPriority } from "../lib/priority";

/** A queued run's priority, changed in place: higher starts first (PATCH /api/runs/{id}). */
export function PriorityControl({ run }: { run: RunRecord }) {
  // What the box holds while someone edits it; otherwise it shows the run's priority as pushed.
  const [draft, setDraft] = useState<string | null>(null);
  const [badInput, setBadInput] = useState(false);
  const [invalid, setInvalid] = useState<string | null>(null);
  const change = useChangePriority();
  const id = useId();
  const errorId = `${id}-error`;
  const text = draft ?? String(run.priority);
  const unchanged = text.trim() === String(run.priority) && !badInput;
  const error = invalid ?? (change.isError ? describeError(change.error) : null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = checkPriority(text, badInput);
    if ("error" in checked) return setInvalid(checked.error);
    if ("empty" in checked) return setInvalid("a whole number is needed");
    change.mutate({ id: run.id, priority: checked.value }, { onSuccess: () => setDraft(null) });
  };

  return (
    <div className="priority">
      <form className="inline priority-form" onSubmit={submit} noValidate>
        <label htmlFor={id}>Priority</label>
        <input
          id={id}
          className="priority-input"
          type="number"
          inputMode="numeric"
          step={1}
          min={PRIORITY_MIN}
          max={PRIORITY_MAX}
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          data-testid="priority-input"
          onChange={(e) => {
            setDraft(e.target.value);
            setBadInput(e.target.validity.badInput);
            setInvalid(null);
            change.reset();
          }}
        />
        <button
          type="submit"
          className="button small"
          data-testid="priority-submit"
          disabled={unchanged || change.isPending}
        >
          {change.isPending ? "Setting…" : "Set"}
        </button>
      </form>
      {error && (
        <p className="error-text" id={errorId} role="alert" data-testid="priority-error">
          {error}
        </p>
      )}
    </div>
  );
}
