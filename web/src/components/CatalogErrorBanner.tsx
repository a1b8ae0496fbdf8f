import type { CatalogResponse } from "../api/types";

/** A broken catalog edit: where it is, and whether the last good catalog is still in use. */
export function CatalogErrorBanner({ catalog }: { catalog: CatalogResponse }) {
  const { error } = catalog;
  if (catalog.status !== "error" || !error) return null;
  const where = `${error.file}${error.line !== null ? `:${error.line}` : ""}`;
  return (
    <div className="notice notice-error" role="alert" data-testid="catalog-error">
      <strong>The catalog has an error.</strong> <span className="mono">{where}</span>
      {error.key && (
        <>
          {" "}
          at <span className="mono">{error.key}</span>
        </>
      )}
      : {error.message}{" "}
      {catalog.tasks.length > 0
        ? "The last good catalog is still in use."
        : "Nothing can be launched until it is fixed."}
    </div>
  );
}
