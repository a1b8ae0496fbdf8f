/**
 * The MLflow UI page of a run. MLflow's UI routes `#/runs/<id>` to the run's page whatever its
 * experiment; when the trainer also reported the experiment id, the full path is used.
 */
export function mlflowRunUrl(base: string, runId: string, meta: Record<string, unknown>): string {
  const root = base.replace(/\/+$/, "");
  const experiment = meta.mlflow_experiment_id ?? meta.experiment_id;
  const run = encodeURIComponent(runId);
  if (typeof experiment === "string" || typeof experiment === "number") {
    return `${root}/#/experiments/${encodeURIComponent(String(experiment))}/runs/${run}`;
  }
  return `${root}/#/runs/${run}`;
}

/** TensorBoard showing one VTM run: its logdir holds one folder per VTM run id, and
 * `runFilter` (a regular expression) keeps that folder's runs. */
export function tensorboardRunUrl(base: string, vtmRunId: string): string {
  const root = base.replace(/\/+$/, "");
  return `${root}/?runFilter=${encodeURIComponent(vtmRunId)}#timeseries`;
}
