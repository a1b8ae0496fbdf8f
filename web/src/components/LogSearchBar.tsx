import type { KeyboardEvent } from "react";

interface Props {
  query: string;
  onQuery: (query: string) => void;
  matches: number;
  /** Index into the matches, or -1 before the first Enter / Next. */
  current: number;
  onStep: (delta: 1 | -1) => void;
}

/** Find in the log: Enter for the next match, Shift+Enter for the previous one. */
export function LogSearchBar({ query, onQuery, matches, current, onStep }: Props) {
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      onStep(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape") {
      onQuery("");
    }
  };
  const count = !query ? "" : current >= 0 ? `${current + 1} / ${matches}` : `${matches} lines`;
  return (
    <div className="log-search" role="search">
      <input
        type="search"
        value={query}
        onChange={(e) => onQuery(e.target.value)}
        onKeyDown={onKeyDown}
        placeholder="Search the log"
        aria-label="Search the log"
        data-testid="log-search"
      />
      <span className="log-search-count muted" data-testid="log-search-count" aria-live="polite">
        {count}
      </span>
      <button
        type="button"
        className="button small"
        onClick={() => onStep(-1)}
        disabled={!matches}
        data-testid="log-search-prev"
        aria-label="Previous match"
      >
        ↑
      </button>
      <button
        type="button"
        className="button small"
        onClick={() => onStep(1)}
        disabled={!matches}
        data-testid="log-search-next"
        aria-label="Next match"
      >
        ↓
      </button>
    </div>
  );
}
