import { Link } from "react-router";
import type { RegisteredModel } from "../api/types";
import { formatDateTime } from "../lib/format";
import { InlineCode } from "./InlineCode";

/** Registered models, each with its aliases and its versions (newest first). */
export function RegisteredModelsList({ models }: { models: readonly RegisteredModel[] }) {
  return (
    <div className="stack">
      {models.map((model) => (
        <section
          key={model.name}
          className="card"
          aria-labelledby={`model-${model.name}`}
          data-testid={`registered-model-${model.name}`}
        >
          <div className="page-head">
            <h2 id={`model-${model.name}`}>{model.name}</h2>
            <div className="actions">
              {Object.entries(model.aliases)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([alias, version]) => (
                  <span key={alias} className="badge badge-alias" data-testid={`model-alias-${alias}`}>
                    @{alias} → v{version}
                  </span>
                ))}
            </div>
          </div>
          {model.description && (
            <p>
              <InlineCode text={model.description} />
            </p>
          )}
          {model.versions.length === 0 ? (
            <p className="muted">No versions.</p>
          ) : (
            <div className="table-scroll">
              <table className="runs-table">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col">Run</th>
                    <th scope="col">Source</th>
                  </tr>
                </thead>
                <tbody>
                  {model.versions.map((version) => (
                    <tr key={version.version} data-testid={`model-version-${model.name}-${version.version}`}>
                      <td>v{version.version}</td>
                      <td>{version.aliases.length ? version.aliases.map((a) => `@${a}`).join(" ") : "—"}</td>
                      <td>{version.status ?? "—"}</td>
                      <td>{formatDateTime(version.creationTime)}</td>
                      <td>
                        {version.runId ? (
                          <Link
                            to={`/mlflow/runs/${encodeURIComponent(version.runId)}`}
                            className="mono small"
                          >
                            {version.runId.slice(0, 8)}
                          </Link>
                        ) : (
                          "—"
                        )}
                      </td>
                      <td className="mono small">{version.source ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ))}
    </div>
  );
}
