import { describeError } from "../api/errors";

/** A failed query or action, said plainly. */
export function ErrorNotice({ error, what }: { error: unknown; what: string }) {
  return (
    <div className="notice notice-error" role="alert">
      <strong>{what}</strong> {describeError(error)}
    </div>
  );
}
