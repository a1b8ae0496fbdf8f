// The history page's state lives in the address (shareable, and Back undoes a change): the
// filters, the page (cursor), the runs being compared (?compare=a,b) and the field columns shown
// (?fields=lr,epochs).
import { ALL_STATUSES, type RunFilters, type RunStatus, type Task } from "../api/types";
import { dayStartIso } from "./format";

export interface HistoryFilterValues {
  taskId: string;
  statuses: RunStatus[];
  /** Calendar days, YYYY-MM-DD, both inclusive; "" when open. */
  from: string;
  to: string;
}

export const PAGE_SIZE = 50;

export function readHistoryParams(params: URLSearchParams): HistoryFilterValues {
  const statuses = (params.get("status") ?? "")
    .split(",")
    .filter((s): s is RunStatus => (ALL_STATUSES as readonly string[]).includes(s));
  return {
    taskId: params.get("task") ?? "",
    statuses,
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
}

export function writeHistoryParams(values: HistoryFilterValues): URLSearchParams {
  const params = new URLSearchParams();
  if (values.taskId) params.set("task", values.taskId);
  if (values.statuses.length) params.set("status", values.statuses.join(","));
  if (values.from) params.set("from", values.from);
  if (values.to) params.set("to", values.to);
  return params;
}

export function toRunFilters(values: HistoryFilterValues, cursor: string | undefined): RunFilters {
  return {
    taskId: values.taskId || undefined,
    status: values.statuses.length ? values.statuses : undefined,
    createdAfter: values.from ? dayStartIso(values.from) : undefined,
    // "to" is inclusive: runs before the start of the next day.
    createdBefore: values.to ? dayStartIso(values.to, 1) : undefined,
    limit: PAGE_SIZE,
    cursor,
  };
}

/** A comma-separated list in the address (?compare=a,b, ?fields=lr,epochs). */
export function readList(params: URLSearchParams, key: string): string[] {
  return [...new Set((params.get(key) ?? "").split(",").filter(Boolean))];
}

export function writeList(params: URLSearchParams, key: string, values: readonly string[]): URLSearchParams {
  const out = new URLSearchParams(params);
  if (values.length) out.set(key, values.join(","));
  else out.delete(key);
  return out;
}

/**
 * The fields one may show as columns: the filtered task's (catalog order), or every task's
 * (first-seen order) when all tasks are listed, and any already chosen that neither names (a
 * field since removed from the catalog must stay possible to untick).
 */
export function fieldColumnChoices(
  tasks: readonly Task[],
  taskId: string,
  chosen: readonly string[],
): string[] {
  const listed = taskId ? tasks.filter((t) => t.id === taskId) : tasks;
  const names = new Set(listed.flatMap((t) => t.fields.map((f) => f.name)));
  for (const name of chosen) names.add(name);
  return [...names];
}
