import { Link, useParams } from "react-router";
import { HttpError } from "../api/errors";
import { useRun, useTaskMap } from "../api/queries";
import { ArtifactBrowser } from "../components/ArtifactBrowser";
import { ErrorNotice } from "../components/ErrorNotice";
import { LogViewer } from "../components/LogViewer";
import { MetricsPanel } from "../components/MetricsPanel";
import { RunFields } from "../components/RunFields";
import { RunHeader } from "../components/RunHeader";
import { RunLinks } from "../components/RunLinks";
import { RunOrigin } from "../components/RunOrigin";
import { RunSummary } from "../components/RunSummary";
import { useDocumentTitle } from "../lib/useDocumentTitle";

export function RunPage() {
  const { runId = "" } = useParams();
  const query = useRun(runId);
  const tasks = useTaskMap();
  useDocumentTitle(`Run ${runId}`);

  const run = query.data;
  if (!run) {
    if (query.error instanceof HttpError && query.error.isNotFound) {
      return (
        <p className="notice notice-error" role="alert">
          There is no run <span className="mono">{runId}</span>. <Link to="/history">All runs</Link>
        </p>
      );
    }
    if (query.isError) return <ErrorNotice error={query.error} what="The run could not be loaded." />;
    return <p className="muted">Loading…</p>;
  }
  const task = tasks.get(run.taskId);
  return (
    <>
      <RunHeader run={run} task={task} />
      <RunLinks run={run} task={task} />
      <RunOrigin run={run} />
      <div className="detail-grid">
        <RunSummary run={run} task={task} />
        <RunFields run={run} />
      </div>
      <MetricsPanel runId={run.id} primary={task?.primaryMetric?.name ?? null} />
      {run.workFolder && (
        <section aria-labelledby="files-heading">
          <h2 id="files-heading">Files</h2>
          <p className="muted">What the trainer wrote in its run folder.</p>
          {/* Listed again when the run's status changes: the trainer adds files as it goes. */}
          <ArtifactBrowser key={run.status} owner={{ kind: "work", id: run.id }} testId="run-files" />
        </section>
      )}
      <section aria-labelledby="output-heading">
        <h2 id="output-heading">Output</h2>
        <LogViewer run={run} />
      </section>
    </>
  );
}
