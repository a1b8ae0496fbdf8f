import type { UseQueryResult } from "@tanstack/react-query";
import { describeError } from "../api/errors";
import type { PipelinesStatus } from "../api/types";
import { formatDateTime } from "../lib/format";

/** Whether VTM can show Airflow's side of the pipelines, and why not. `data-state`:
 * `loading`, `unconfigured`, `error` (Airflow, or VTM itself, could not be read) or `ok`. */
export function AirflowStatusLine({ status }: { status: UseQueryResult<PipelinesStatus> }) {
  const data = status.data;
  if (!data) {
    return status.isError ? (
      <p className="notice notice-error" role="alert" data-testid="airflow-status" data-state="error">
        Airflow's state is unknown: {describeError(status.error)}
      </p>
    ) : (
      <p className="muted" data-testid="airflow-status" data-state="loading">
        Asking Airflow…
      </p>
    );
  }
  if (!data.configured) {
    return (
      <p className="notice" data-testid="airflow-status" data-state="unconfigured">
        <strong>VTM is not connected to Airflow.</strong>{" "}
        {data.airflowUrl ? (
          <>
            <code>VTM_AIRFLOW_URL</code> is {data.airflowUrl}, but <code>VTM_AIRFLOW_USERNAME</code> and{" "}
            <code>VTM_AIRFLOW_PASSWORD</code> are not both set.
          </>
        ) : (
          <>
            Set <code>VTM_AIRFLOW_URL</code>, <code>VTM_AIRFLOW_USERNAME</code> and{" "}
            <code>VTM_AIRFLOW_PASSWORD</code> for <code>vtm serve</code> to see DAG runs here.
          </>
        )}{" "}
        The pipelines below are what the catalog declares; Airflow runs them (see the README, “Pipelines on
        Airflow”).
      </p>
    );
  }
  if (data.error) {
    return (
      <p className="notice notice-error" role="alert" data-testid="airflow-status" data-state="error">
        <strong>Airflow could not be read.</strong> {data.error}
      </p>
    );
  }
  return (
    <p className="muted small" data-testid="airflow-status" data-state="ok">
      DAG runs from Airflow at <span className="mono">{data.airflowUrl}</span>
      {status.dataUpdatedAt ? `, read ${formatDateTime(status.dataUpdatedAt)}` : ""}
    </p>
  );
}
