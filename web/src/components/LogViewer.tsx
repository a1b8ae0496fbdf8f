import { useCallback, useDeferredValue, useMemo, useState } from "react";
import type { Api } from "../api/client";
import { describeError } from "../api/errors";
import { isActive, type RunRecord } from "../api/types";
import { useLogLines } from "../lib/useLogLines";
import { LogLine } from "./LogLine";
import { LogSearchBar } from "./LogSearchBar";
import { VirtualList } from "./VirtualList";

const ROW_HEIGHT = 20;

interface Props {
  run: RunRecord;
  /** For tests; the app uses the shared client. */
  api?: Api;
}

/** The run's whole output: windowed, followable while it runs, searchable. */
export function LogViewer({ run, api }: Props) {
  // A new record (more lines indexed, or the run ended) is the cue to read on.
  const log = useLogLines(run.id, `${run.status}:${run.lineCount}:${run.updatedAt}`, api);
  const [follow, setFollow] = useState(isActive(run.status));
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(-1);
  const [jump, setJump] = useState<{ index: number; seq: number } | null>(null);
  const searched = useDeferredValue(query);
  const { buffer, version } = log;
  // The buffer grows in place; `version` changes when it did, so the search reruns.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const matches = useMemo(() => buffer.find(searched), [buffer, version, searched]);
  const currentLine = current >= 0 ? (matches[current] ?? -1) : -1;

  const changeQuery = (next: string) => {
    setQuery(next);
    setCurrent(-1);
  };
  const step = (delta: 1 | -1) => {
    if (!matches.length) return;
    const next =
      current < 0
        ? delta > 0
          ? 0
          : matches.length - 1
        : (current + delta + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    setJump({ index: matches[next] ?? 0, seq: Date.now() });
  };
  const renderRow = useCallback(
    (i: number) => (
      <LogLine
        key={i}
        index={i}
        text={buffer.line(i)}
        query={searched}
        current={i === currentLine}
        height={ROW_HEIGHT}
      />
    ),
    // `version` stands for the buffer's contents, which change without a new buffer object.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [buffer, version, searched, currentLine],
  );

  return (
    <div className="log-viewer" data-testid="log-viewer">
      <div className="log-toolbar">
        <LogSearchBar
          query={query}
          onQuery={changeQuery}
          matches={matches.length}
          current={current}
          onStep={step}
        />
        <label className="log-follow">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow(e.target.checked)}
            data-testid="log-follow"
          />
          Follow
        </label>
        <span className="muted" data-testid="log-line-count">
          {buffer.count.toLocaleString()} lines{log.loading ? " · loading…" : ""}
        </span>
      </div>
      {log.error !== null && (
        <p className="notice notice-error" role="alert">
          The log could not be read: {describeError(log.error)}
        </p>
      )}
      <VirtualList
        count={buffer.count}
        rowHeight={ROW_HEIGHT}
        renderRow={renderRow}
        follow={follow}
        onFollowChange={setFollow}
        scrollTo={jump}
        label="Run output"
      />
    </div>
  );
}
