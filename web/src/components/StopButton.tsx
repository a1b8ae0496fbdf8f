import { useEffect, useId, useRef, useState } from "react";
import { describeError } from "../api/errors";
import { useStopRun } from "../api/queries";
import type { RunRecord } from "../api/types";

/** Stop, after an inline confirmation (Escape or Cancel backs out). */
export function StopButton({ run }: { run: RunRecord }) {
  const [confirming, setConfirming] = useState(false);
  const stop = useStopRun();
  const labelId = useId();
  const triggerRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  useEffect(() => {
    // Focus lands on the harmless choice: Enter right after opening must not stop a run.
    // Backing out returns focus to the Stop button so keyboard users keep their place.
    if (confirming) cancelRef.current?.focus();
    else if (wasConfirming.current) triggerRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  const cancel = () => setConfirming(false);
  const confirm = () => {
    setConfirming(false);
    stop.mutate(run.id);
  };
  const stopping = run.stopRequested || stop.isPending;

  return (
    <div className="stop">
      {!confirming && (
        <button
          ref={triggerRef}
          type="button"
          className="button danger-outline"
          data-testid="stop-button"
          disabled={stopping}
          onClick={() => setConfirming(true)}
        >
          {stopping ? "Stopping…" : "Stop"}
        </button>
      )}
      {confirming && (
        <div
          className="confirm"
          role="alertdialog"
          aria-labelledby={labelId}
          onKeyDown={(e) => e.key === "Escape" && cancel()}
        >
          <span id={labelId}>Stop run {run.id}?</span>
          <button type="button" className="button danger" data-testid="stop-confirm" onClick={confirm}>
            Stop run
          </button>
          <button ref={cancelRef} type="button" className="button" data-testid="stop-cancel" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {stop.isError && (
        <p className="error-text" role="alert">
          {describeError(stop.error)}
        </p>
      )}
    </div>
  );
}
