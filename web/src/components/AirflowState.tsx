import { stateLabel, stateTone } from "../lib/pipelines";

/** An Airflow DAG run or task instance state as a badge, coloured by what it means. */
export function AirflowState({ state, testId }: { state: string | null | undefined; testId?: string }) {
  return (
    <span
      className={`badge af-state af-${stateTone(state)}`}
      data-testid={testId}
      data-state={state ?? "none"}
    >
      {stateLabel(state)}
    </span>
  );
}
