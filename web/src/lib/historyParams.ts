// The history page's filters live in the address (shareable, and Back undoes a change).
import { ALL_STATUSES, type RunFilters, type RunStatus } from "../api/types";
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
