// Folding a pushed (or freshly returned) RunRecord into every cached query that shows it, so a
// trainer's progress line reaches the page without refetching lists.
import type { QueryClient } from "@tanstack/react-query";
import { keys } from "./keys";
import type { RunFilters, RunPage, RunRecord } from "./types";

/** The newer of two versions of one run; events and refetches can arrive out of order. */
export function newer(current: RunRecord | undefined, incoming: RunRecord): RunRecord {
  if (!current) return incoming;
  return Date.parse(incoming.updatedAt) >= Date.parse(current.updatedAt) ? incoming : current;
}

export function matchesFilters(run: RunRecord, filters: RunFilters): boolean {
  if (filters.status?.length && !filters.status.includes(run.status)) return false;
  if (filters.taskId && run.taskId !== filters.taskId) return false;
  const created = Date.parse(run.createdAt);
  if (filters.createdAfter && created < Date.parse(filters.createdAfter)) return false;
  if (filters.createdBefore && created >= Date.parse(filters.createdBefore)) return false;
  return true;
}

/**
 * `page` with `run` placed as the filters say: replaced where it is, removed when it no longer
 * matches (a finished run leaves the "active" list), inserted newest-first when it is new — but
 * only into a first page, since a later page's bounds belong to the server's cursor.
 */
export function upsertIntoPage(page: RunPage, run: RunRecord, filters: RunFilters): RunPage {
  const index = page.runs.findIndex((r) => r.id === run.id);
  const matches = matchesFilters(run, filters);
  if (index >= 0) {
    const current = page.runs[index];
    if (!matches) return { ...page, runs: page.runs.filter((r) => r.id !== run.id) };
    const chosen = newer(current, run);
    if (chosen === current) return page;
    const runs = [...page.runs];
    runs[index] = chosen;
    return { ...page, runs };
  }
  if (!matches || filters.cursor) return page;
  const created = Date.parse(run.createdAt);
  const at = page.runs.findIndex((r) => Date.parse(r.createdAt) < created);
  if (at < 0 && page.nextCursor !== null) return page; // older than this whole page: not ours
  const runs = [...page.runs];
  runs.splice(at < 0 ? runs.length : at, 0, run);
  return { ...page, runs };
}

/**
 * `run` into the run's own query and every list. The run's own query keeps the newest version
 * seen (it is written even when no page shows it), and the lists get that one: a stop's answer
 * that arrives after the pushed "stopped" must not put the run back into the active list it
 * has left, where no later event would take it out again.
 */
export function applyRunRecord(client: QueryClient, run: RunRecord): void {
  const latest = newer(client.getQueryData<RunRecord>(keys.run(run.id)), run);
  client.setQueryData<RunRecord>(keys.run(run.id), latest);
  for (const [key, page] of client.getQueriesData<RunPage>({ queryKey: keys.runLists })) {
    if (!page) continue;
    const filters = (key[2] ?? {}) as RunFilters;
    const next = upsertIntoPage(page, latest, filters);
    if (next !== page) client.setQueryData<RunPage>(key, next);
  }
}

/** A run found in any cached list: shown at once while its own query loads. */
export function findCachedRun(client: QueryClient, id: string): RunRecord | undefined {
  for (const [, page] of client.getQueriesData<RunPage>({ queryKey: keys.runLists })) {
    const run = page?.runs.find((r) => r.id === id);
    if (run) return run;
  }
  return undefined;
}
