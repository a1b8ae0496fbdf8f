// Query keys in one place: events.ts and cache.ts find cached data by these prefixes.
import type { RunFilters } from "./types";

/** Drops empty filter values so that equal filters give equal keys. */
export function normalizeFilters(filters: RunFilters): RunFilters {
  const out: RunFilters = {};
  if (filters.status?.length) out.status = [...filters.status].sort();
  if (filters.taskId) out.taskId = filters.taskId;
  if (filters.createdAfter) out.createdAfter = filters.createdAfter;
  if (filters.createdBefore) out.createdBefore = filters.createdBefore;
  if (filters.limit !== undefined) out.limit = filters.limit;
  if (filters.cursor) out.cursor = filters.cursor;
  return out;
}

export const keys = {
  catalog: ["catalog"] as const,
  config: ["config"] as const,
  /** Everything about runs: lists, details, metrics. */
  runs: ["runs"] as const,
  runLists: ["runs", "list"] as const,
  runList: (filters: RunFilters) => ["runs", "list", normalizeFilters(filters)] as const,
  run: (id: string) => ["runs", "detail", id] as const,
  metrics: (id: string) => ["runs", "metrics", id] as const,
};
