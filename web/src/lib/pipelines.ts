// Pure helpers for the Pipelines page and the run page's origin: Airflow links, step text,
// step order, schedules and Airflow's states.
import cronstrue from "cronstrue";
import type { AirflowContext, Pipeline, PipelineStep } from "../api/types";

function trimmed(base: string): string {
  return base.replace(/\/+$/, "");
}

const part = encodeURIComponent;

/** A DAG in Airflow 3's UI. */
export function airflowDagUrl(base: string, dagId: string): string {
  return `${trimmed(base)}/dags/${part(dagId)}`;
}

/** A DAG run in Airflow 3's UI. */
export function airflowDagRunUrl(base: string, dagId: string, runId: string): string {
  return `${airflowDagUrl(base, dagId)}/runs/${part(runId)}`;
}

/** A task try in Airflow 3's UI (a mapped task's own instance when mapIndex ≥ 0). */
export function airflowTaskUrl(
  base: string,
  task: Pick<AirflowContext, "dagId" | "runId" | "taskId"> & {
    tryNumber?: number | null;
    mapIndex?: number | null;
  },
): string {
  let url = `${airflowDagRunUrl(base, task.dagId, task.runId)}/tasks/${part(task.taskId)}`;
  if (task.mapIndex != null && task.mapIndex >= 0) url += `/mapped/${task.mapIndex}`;
  if (task.tryNumber) url += `?try_number=${task.tryNumber}`;
  return url;
}

/** Seconds as the catalog writes durations: 90 → "90s", 300 → "5m", 7200 → "2h". */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

// Airflow's presets as the cron expressions they stand for (@once has none).
const PRESET_CRON: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
};

/**
 * A schedule in words: "At 02:00, UTC" for `0 2 * * *`. Airflow reads a cron in UTC unless the
 * DAG says otherwise, and the catalog's DAGs do not.
 */
export function describeSchedule(schedule: string | null | undefined): string {
  if (!schedule) return "On demand (triggered in Airflow)";
  if (schedule === "@once") return "Once, when the DAG is first unpaused";
  try {
    const words = cronstrue.toString(PRESET_CRON[schedule] ?? schedule, {
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true,
    });
    return `${words}, UTC`;
  } catch {
    return schedule; // the server validated it with croniter; cronstrue may still not follow
  }
}

/** What a step does, in a few words. */
export function stepAction(step: PipelineStep): string {
  if (step.kind === "publish" && step.publish) {
    const p = step.publish;
    const judged = p.evaluation ? `judged by ${p.evaluation}'s ` : "by ";
    const options = [
      (p.metric || p.evaluation) && `${judged}${p.goal ? `${p.goal} ` : ""}${p.metric ?? "primary metric"}`,
      p.minMetric != null && `at least ${p.minMetric}`,
      p.againstChampion && `better than the ${p.alias ?? "champion"}`,
      p.since && `since ${p.since}`,
      p.alias && `alias ${p.alias}`,
    ].filter(Boolean);
    const which = p.run ? `${p.run}'s` : "the best";
    return `publish ${which} ${p.task} model${options.length ? ` (${options.join(", ")})` : ""}`;
  }
  if (step.kind === "report" && step.report) {
    const r = step.report;
    return `quality report of the last ${r.since}${r.task ? ` for ${r.task}` : ""} (${r.format})`;
  }
  return `run ${step.task ?? "?"}`;
}

/** The step's fields as `k=v` pairs (templates such as {{ ds }} as written). */
export function stepFields(step: PipelineStep): string {
  return Object.entries(step.fields ?? {})
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(" ");
}

/** Where a step's work happens: a task step in `exec` mode trains on the Airflow worker itself,
 * any other step asks VTM (which trains on its own executors); the queue picks the workers. */
export function stepPlace(step: PipelineStep): string {
  const where = step.kind === "task" && step.mode === "exec" ? "the Airflow worker (vtm exec)" : "VTM";
  return step.queue ? `${where}, queue ${step.queue}` : where;
}

/** Steps in an order where each comes after what it depends on; otherwise as declared. */
export function orderedSteps(pipeline: Pick<Pipeline, "steps">): [string, PipelineStep][] {
  const entries = Object.entries(pipeline.steps);
  const placed = new Set<string>();
  const out: [string, PipelineStep][] = [];
  const visit = (id: string, step: PipelineStep, path: Set<string>) => {
    if (placed.has(id) || path.has(id)) return; // a cycle is the catalog's error to report
    path.add(id);
    for (const dep of step.dependsOn ?? []) {
      const upstream = pipeline.steps[dep];
      if (upstream) visit(dep, upstream, path);
    }
    placed.add(id);
    out.push([id, step]);
  };
  for (const [id, step] of entries) visit(id, step, new Set());
  return out;
}

/** Airflow's DAG run and task instance states, grouped for colour: ok, bad, active, waiting. */
export function stateTone(state: string | null | undefined): "ok" | "bad" | "active" | "wait" | "none" {
  switch (state) {
    case "success":
      return "ok";
    case "failed":
    case "upstream_failed":
      return "bad";
    case "running":
    case "deferred":
    case "restarting":
      return "active";
    case "queued":
    case "scheduled":
    case "up_for_retry":
    case "up_for_reschedule":
      return "wait";
    default:
      return "none"; // no state yet, skipped, removed
  }
}

export function stateLabel(state: string | null | undefined): string {
  return state ? state.replace(/_/g, " ") : "no state";
}
