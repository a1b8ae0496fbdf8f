import { useRegisteredModels } from "../api/mlflowQueries";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowHeader } from "../components/MlflowHeader";
import { RegisteredModelsList } from "../components/RegisteredModelsList";
import { useDocumentTitle } from "../lib/useDocumentTitle";

/** The MLflow Model Registry: each model's versions and aliases. */
export function MlflowModelsPage() {
  useDocumentTitle("Registered models · MLflow");
  const models = useRegisteredModels();
  return (
    <>
      <MlflowHeader title="MLflow" />
      {models.isError && <ErrorNotice error={models.error} what="Registered models could not be loaded." />}
      {models.isPending && <p className="muted">Loading…</p>}
      {models.data && models.data.models.length === 0 && (
        <p className="muted" data-testid="mlflow-no-models">
          No registered models yet. <code>vtm publish</code> registers a task’s best run.
        </p>
      )}
      {models.data && models.data.models.length > 0 && <RegisteredModelsList models={models.data.models} />}
    </>
  );
}
