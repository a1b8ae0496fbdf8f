import { useState, type MouseEvent, type ReactNode } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { getToken } from "../api/token";
import type { ArtifactOwner } from "../api/types";

function save(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has handed the blob to the browser's download; the URL is not needed after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * A file of a run's or a model's artifacts, downloaded through VTM (never from MLflow itself).
 * Without a token it is a plain link: the browser streams the file to disk. With one, a link
 * cannot send the Authorization header (and a token in the address would land in access logs),
 * so the click fetches the file with the header and saves it from memory.
 */
export function DownloadLink({
  owner,
  path,
  name,
  children,
}: {
  owner: ArtifactOwner;
  path: string;
  name: string;
  children: ReactNode;
}) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (!getToken()) return;
    event.preventDefault();
    setState({ busy: true, error: null });
    api.downloadArtifact(owner, path).then(
      (blob) => {
        save(blob, name);
        setState({ busy: false, error: null });
      },
      (error: unknown) => setState({ busy: false, error: describeError(error) }),
    );
  };
  return (
    <>
      <a
        href={api.artifactDownloadUrl(owner, path)}
        download={name}
        onClick={onClick}
        aria-busy={state.busy || undefined}
        data-testid={`artifact-file-${path}`}
      >
        {children}
      </a>
      {state.error && (
        <span className="error-text" role="alert">
          {" "}
          {state.error}
        </span>
      )}
    </>
  );
}
