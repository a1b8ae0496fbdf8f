import { Link } from "react-router";
import { useRuns, useTaskMap } from "../api/queries";
import { ACTIVE_STATUSES, FINISHED_STATUSES, type RunFilters } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
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

  return (
    <>
      <div className="page-head">
        <h1>Live runs</h1>
        <Link className="button primary" to="/launch">
          Launch a run
        </Link>
      </div>
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">Running and queued</h2>
        {active.isError && !active.data && (
          <ErrorNotice error={active.error} what="Runs could not be loaded." />
        )}
        {active.isPending && <p className="muted">Loading…</p>}
        {active.data?.runs.length === 0 && (
          <p className="muted" data-testid="no-active-runs">
            Nothing is running. <Link to="/launch">Launch a run</Link>.
          </p>
        )}
        <ul className="run-list" data-testid="active-runs">
          {active.data?.runs.map((run) => (
            <RunRow key={run.id} run={run} task={tasks.get(run.taskId)} now={now} />
          ))}
        </ul>
      </section>
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
