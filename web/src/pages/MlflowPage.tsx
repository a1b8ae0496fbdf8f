import { Link } from "react-router";
import { useMlflowExperiments } from "../api/mlflowQueries";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowHeader } from "../components/MlflowHeader";
import { formatDateTime } from "../lib/format";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** MLflow's experiments, the most recently active first: "Last update" is the newest run's
 * end (or start, while it runs), which is what a person means by it; MLflow's own
 * last_update_time only moves when the experiment itself is edited. */
export function MlflowPage() {
  useDocumentTitle("MLflow");
  const experiments = useMlflowExperiments();
  const list = experiments.data?.experiments;
  return (
    <>
      <MlflowHeader title="MLflow" />
      {experiments.isError && (
        <ErrorNotice error={experiments.error} what="Experiments could not be loaded." />
      )}
      {experiments.isPending && <p className="muted">Loading…</p>}
      {list && list.length === 0 && <p className="muted">MLflow has no experiments yet.</p>}
      {list && list.length > 0 && (
        <div className="table-scroll">
          <table className="runs-table" data-testid="mlflow-experiments">
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">ID</th>
                <th scope="col">Last update</th>
                <th scope="col">Tags</th>
                <th scope="col">Artifact location</th>
              </tr>
            </thead>
            <tbody>
              {list.map((experiment) => (
                <tr key={experiment.id} data-testid={`experiment-row-${experiment.id}`}>
                  <td>
                    <Link
                      to={`/mlflow/experiments/${encodeURIComponent(experiment.id)}`}
                      data-testid={`experiment-link-${experiment.id}`}
                    >
                      {experiment.name}
                    </Link>
                  </td>
                  <td className="mono small">{experiment.id}</td>
                  <td data-testid={`experiment-last-update-${experiment.id}`}>
                    {formatDateTime(experiment.latestRunTime ?? experiment.lastUpdateTime)}
                  </td>
                  <td className="small">
                    {Object.entries(experiment.tags)
                      .filter(([key]) => !key.startsWith("mlflow."))
                      .map(([key, value]) => `${key}=${value}`)
                      .join(", ") || "—"}
                  </td>
                  <td className="mono small wrap">{experiment.artifactLocation}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
