import { useState } from "react";
import { useSearchParams } from "react-router";
import { useCatalog, useRuns, useTaskMap } from "../api/queries";
import type { RunRecord } from "../api/types";
import { ComparePanel } from "../components/ComparePanel";
import { ErrorNotice } from "../components/ErrorNotice";
import { FieldColumnsPicker } from "../components/FieldColumnsPicker";
import { HistoryFilters } from "../components/HistoryFilters";
import { HistoryTable } from "../components/HistoryTable";
import {
  fieldColumnChoices,
  readHistoryParams,
  toRunFilters,
  writeHistoryParams,
  writeList,
  type HistoryFilterValues,
} from "../lib/historyParams";
import { useAddressList } from "../lib/useAddressList";
import { useDocumentTitle } from "../lib/useDocumentTitle";

const MAX_COMPARE = 4;

export function HistoryPage() {
  useDocumentTitle("History");
  const [params, setParams] = useSearchParams();
  const filters = readHistoryParams(params);
  const cursor = params.get("cursor") ?? undefined;
  // Cursors of the pages before this one, for "Newer"; the server's cursors only go older.
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  // In the address, like the filters: a comparison or a set of columns can be shared.
  const [compare, setCompare] = useAddressList("compare", MAX_COMPARE);
  const [columns, setColumns] = useAddressList("fields");
  const runs = useRuns(toRunFilters(filters, cursor));
  const tasks = useTaskMap();
  const catalog = useCatalog();

  const goTo = (next: string | undefined, values: HistoryFilterValues = filters) => {
    let out = writeHistoryParams(values);
    if (next) out.set("cursor", next);
    out = writeList(writeList(out, "compare", compare), "fields", columns);
    setParams(out);
  };
  const changeFilters = (values: HistoryFilterValues) => {
    setPrevious([]);
    goTo(undefined, values);
  };
  const toggle = (run: RunRecord, on: boolean) =>
    setCompare(on ? [...compare, run.id] : compare.filter((id) => id !== run.id));

  const page = runs.data;
  return (
    <>
      <h1>History</h1>
      <HistoryFilters value={filters} tasks={catalog.data?.tasks ?? []} onChange={changeFilters} />
      <FieldColumnsPicker
        choices={fieldColumnChoices(catalog.data?.tasks ?? [], filters.taskId, columns)}
        chosen={columns}
        onChange={setColumns}
      />
      {compare.length > 0 && <ComparePanel runIds={compare} tasks={tasks} onClear={() => setCompare([])} />}
      {runs.isError && <ErrorNotice error={runs.error} what="Runs could not be loaded." />}
      {runs.isPending && <p className="muted">Loading…</p>}
      {page && page.runs.length === 0 && <p className="muted">No runs match.</p>}
      {page && page.runs.length > 0 && (
        <HistoryTable
          runs={page.runs}
          tasks={tasks}
          selected={new Set(compare)}
          canSelectMore={compare.length < MAX_COMPARE}
          onToggle={toggle}
          fieldColumns={columns}
        />
      )}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="button"
          disabled={!cursor}
          onClick={() => changeFilters(filters)}
          data-testid="page-first"
        >
          First page
        </button>
        <button
          type="button"
          className="button"
          disabled={!cursor}
          onClick={() => {
            setPrevious((list) => list.slice(0, -1));
            goTo(previous.at(-1));
          }}
          data-testid="page-newer"
        >
          ← Newer
        </button>
        <button
          type="button"
          className="button"
          disabled={!page?.nextCursor || runs.isPlaceholderData}
          onClick={() => {
            setPrevious((list) => [...list, cursor]);
            goTo(page?.nextCursor ?? undefined);
          }}
          data-testid="page-older"
        >
          Older →
        </button>
        <span className="muted" data-testid="page-number">
          {cursor && previous.length === 0 ? "" : `Page ${previous.length + 1}`}
        </span>
      </nav>
    </>
  );
}
