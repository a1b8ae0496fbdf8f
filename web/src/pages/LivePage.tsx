import { Link } from "react-router";
import { useRuns, useTaskMap } from "../api/queries";
import { ACTIVE_STATUSES, FINISHED_STATUSES, type RunFilters } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { GpuPanel } from "../components/GpuPanel";
import { QueueList } from "../components/QueueList";
import { RunRow } from "../components/RunRow";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { useNow } from "../lib/useNow";

// Module constants, so the query keys (and cache entries the event stream updates) are stable.
const ACTIVE: RunFilters = { status: [...ACTIVE_STATUSES], limit: 200 };
const RECENT: RunFilters = { status: [...FINISHED_STATUSES], limit: 10 };

export function LivePage() {
  useDocumentTitle("Live runs");
  const active = useRuns(ACTIVE);
  const recent = useRuns(RECENT);
  const tasks = useTaskMap();
  const now = useNow();
  // One list from the server, shown in two places: a queued run moves from the queue to the
  // running runs when its record says it started.
  const activeRuns = active.data?.runs ?? [];
  const running = activeRuns.filter((run) => run.status !== "queued");

  return (
    <>
      <div className="page-head">
        <h1>Live runs</h1>
        <Link className="button primary" to="/launch">
          Launch a run
        </Link>
      </div>
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">Running</h2>
        {active.isError && !active.data && (
          <ErrorNotice error={active.error} what="Runs could not be loaded." />
        )}
        {active.isPending && <p className="muted">Loading…</p>}
        {active.data && running.length === 0 && (
          <p className="muted" data-testid="no-active-runs">
            Nothing is running. <Link to="/launch">Launch a run</Link>.
          </p>
        )}
        <ul className="run-list" data-testid="active-runs">
          {running.map((run) => (
            <RunRow key={run.id} run={run} task={tasks.get(run.taskId)} now={now} />
          ))}
        </ul>
      </section>
      <section aria-labelledby="queue-heading">
        <h2 id="queue-heading">Queue</h2>
        {active.data && <QueueList runs={activeRuns} tasks={tasks} now={now} />}
      </section>
      <GpuPanel runs={activeRuns} tasks={tasks} />
      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recently finished</h2>
        {recent.data?.runs.length === 0 && <p className="muted">No finished runs yet.</p>}
        <ul className="run-list" data-testid="recent-runs">
          {recent.data?.runs.slice(0, RECENT.limit).map((run) => (
            <RunRow key={run.id} run={run} task={tasks.get(run.taskId)} now={now} />
          ))}
        </ul>
        <p>
          <Link to="/history">All runs →</Link>
        </p>
      </section>
    </>
  );
}
