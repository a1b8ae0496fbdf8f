import { useState } from "react";
import { useArtifacts } from "../api/mlflowQueries";
import type { ArtifactOwner } from "../api/types";
import { formatBytes, parentPath, pathCrumbs } from "../lib/mlflowView";
import { DownloadLink } from "./DownloadLink";
import { ErrorNotice } from "./ErrorNotice";
import { FileIcon, FolderIcon } from "./Icons";

/** One folder of a run's or a logged model's artifacts (or a VTM run's work folder) at a time: folders open in place,
 * files download through VTM. */
export function ArtifactBrowser({ owner, testId }: { owner: ArtifactOwner; testId: string }) {
  const [path, setPath] = useState("");
  const listing = useArtifacts(owner, path);
  const entries = listing.data?.path === path ? listing.data.entries : (listing.data?.entries ?? []);
  return (
    <div className="artifact-browser" data-testid={testId} data-path={path}>
      <nav className="crumbs" aria-label="Folder">
        {pathCrumbs(path).map((crumb, i, all) => (
          <span key={crumb.path}>
            {i > 0 && <span className="muted"> / </span>}
            {i === all.length - 1 ? (
              <strong aria-current="location">{crumb.name}</strong>
            ) : (
              <button
                type="button"
                className="link-button"
                onClick={() => setPath(crumb.path)}
                data-testid={`artifact-crumb-${crumb.path}`}
              >
                {crumb.name}
              </button>
            )}
          </span>
        ))}
      </nav>
      {listing.isError && <ErrorNotice error={listing.error} what="The files could not be listed." />}
      {listing.isPending && <p className="muted">Loading…</p>}
      {listing.data && entries.length === 0 && <p className="muted">This folder is empty.</p>}
      {entries.length > 0 && (
        <table className="kv artifact-table" aria-busy={listing.isPlaceholderData || undefined}>
          <tbody>
            {path !== "" && (
              <tr>
                <td colSpan={2}>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setPath(parentPath(path))}
                    data-testid="artifact-up"
                  >
                    ..
                  </button>
                </td>
              </tr>
            )}
            {entries.map((entry) => (
              <tr key={entry.path}>
                <td>
                  {entry.isDir ? (
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => setPath(entry.path)}
                      data-testid={`artifact-dir-${entry.path}`}
                    >
                      <FolderIcon />
                      {entry.name}/
                    </button>
                  ) : (
                    <DownloadLink owner={owner} path={entry.path} name={entry.name}>
                      <FileIcon />
                      {entry.name}
                    </DownloadLink>
                  )}
                </td>
                <td className="numeric muted">{entry.isDir ? "" : formatBytes(entry.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
