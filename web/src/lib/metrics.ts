import type { RunRecord, Task } from "../api/types";
import { formatValue } from "./format";

/** The base task type's primary metric as the run last reported it. */
export function primaryMetric(run: RunRecord, task: Task | undefined) {
  const metric = task?.primaryMetric ?? null;
  const value = metric ? run.progress[metric.name] : undefined;
  return { name: metric?.name ?? null, goal: metric?.goal ?? null, text: formatValue(value) };
}
