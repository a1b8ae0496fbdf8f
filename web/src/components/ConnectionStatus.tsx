import { useConnectionState } from "../api/EventStreamProvider";
import { CONNECTION_LABELS, type ConnectionState } from "../api/events";

const HINTS: Record<ConnectionState, string> = {
  connecting: "Opening the live event stream.",
  live: "Updates arrive as the trainers report them.",
  "catching-up": "The stream is back; fetching what changed meanwhile.",
  "polling-fallback": "The live stream dropped; refreshing every 2 s until it is back.",
};

export function ConnectionStatus() {
  const state = useConnectionState();
  return (
    <span
      className={`conn conn-${state}`}
      data-testid="connection-status"
      data-state={state}
      role="status"
      title={HINTS[state]}
    >
      <span className="conn-dot" aria-hidden="true" />
      {CONNECTION_LABELS[state]}
    </span>
  );
}
