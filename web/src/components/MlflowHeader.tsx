import { useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { NavLink } from "react-router";
import { keys } from "../api/keys";
import { useMlflowStatus } from "../api/mlflowQueries";

/** The MLflow pages' head: their tabs, where the tracking store is and whether it answers,
 * a link to MLflow's own UI when the server knows one, and Refresh (MLflow pushes nothing). */
export function MlflowHeader({ title }: { title: ReactNode }) {
  const status = useMlflowStatus();
  const client = useQueryClient();
  const data = status.data;
  return (
    <>
      <div className="page-head">
        <h1>{title}</h1>
        <div className="actions">
          {data?.uiUrl && (
            <a
              className="button small"
              href={data.uiUrl}
              target="_blank"
              rel="noreferrer"
              data-testid="mlflow-ui-link"
            >
              MLflow UI ↗
            </a>
          )}
          <button
            type="button"
            className="button small"
            onClick={() => void client.invalidateQueries({ queryKey: keys.mlflow })}
            data-testid="mlflow-refresh"
          >
            Refresh
          </button>
        </div>
      </div>
      <nav className="subnav" aria-label="MLflow">
        <NavLink to="/mlflow" end data-testid="mlflow-tab-experiments">
          Experiments
        </NavLink>
        <NavLink to="/mlflow/models" data-testid="mlflow-tab-models">
          Registered models
        </NavLink>
        <span
          className={`mlflow-status ${data && !data.reachable && !data.creating ? "error-text" : "muted"}`}
          data-testid="mlflow-status"
          data-reachable={data ? String(data.reachable) : undefined}
          title={data?.error ?? undefined}
        >
          {data ? (
            <>
              <span className="mono">{data.trackingUri}</span>
              {data.reachable
                ? ""
                : data.creating
                  ? " · creating the store…"
                  : ` · unreachable: ${data.error ?? "no answer"}`}
            </>
          ) : status.isError ? (
            "MLflow status unknown"
          ) : (
            "Checking MLflow…"
          )}
        </span>
      </nav>
    </>
  );
}
