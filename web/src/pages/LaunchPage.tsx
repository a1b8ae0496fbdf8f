import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useCatalog, useRun, useServerConfig } from "../api/queries";
import { CatalogErrorBanner } from "../components/CatalogErrorBanner";
import { ErrorNotice } from "../components/ErrorNotice";
import { LaunchForm } from "../components/LaunchForm";
import { TaskPicker } from "../components/TaskPicker";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** /launch, /launch/<taskId> and /launch/<taskId>?from=<runId> (re-run with changes). */
export function LaunchPage() {
  const { taskId } = useParams();
  const [search] = useSearchParams();
  const from = search.get("from") ?? "";
  const navigate = useNavigate();
  const catalog = useCatalog();
  const config = useServerConfig();
  const source = useRun(from, { enabled: from !== "" });
  const task = catalog.data?.tasks.find((t) => t.id === taskId);
  useDocumentTitle(task ? `Launch ${task.title ?? task.id}` : "Launch");

  const waitingForSource = from !== "" && source.isPending;
  return (
    <>
      <h1>Launch a run</h1>
      {catalog.data && <CatalogErrorBanner catalog={catalog.data} />}
      {catalog.isError && <ErrorNotice error={catalog.error} what="The catalog could not be loaded." />}
      {catalog.isPending && <p className="muted">Loading the catalog…</p>}
      <div className="launch-layout">
        {catalog.data && <TaskPicker tasks={catalog.data.tasks} selected={taskId} />}
        <section className="launch-main" aria-label="Fields">
          {!taskId && catalog.data && <p className="muted">Pick a task to see its fields.</p>}
          {taskId && catalog.data && !task && (
            <p className="notice notice-error" role="alert">
              The catalog has no task <span className="mono">{taskId}</span>.
            </p>
          )}
          {from !== "" && source.isError && (
            <ErrorNotice error={source.error} what={`Run ${from} could not be loaded.`} />
          )}
          {task && (
            <>
              <h2>{task.title ?? task.id}</h2>
              {from !== "" && source.data && (
                <p className="muted" data-testid="rerun-note">
                  Pre-filled from run <Link to={`/runs/${from}`}>{from}</Link>; change what you need.
                </p>
              )}
              {!waitingForSource && (
                <LaunchForm
                  key={`${task.id}/${from}`}
                  task={task}
                  initial={source.data?.fields}
                  initialPriority={source.data?.priority}
                  executors={config.data?.executors}
                  initialExecutor={source.data?.executor}
                  onLaunched={(run) => navigate(`/runs/${run.id}`)}
                />
              )}
            </>
          )}
        </section>
      </div>
    </>
  );
}
