import { memo, type ReactNode } from "react";

interface Props {
  index: number;
  text: string;
  query: string;
  current: boolean;
  height: number;
}

/** `text` with each case-insensitive occurrence of `query` marked. */
function highlight(text: string, query: string): ReactNode {
  if (!query) return text;
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: ReactNode[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, from)) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (from === 0) return text;
  parts.push(text.slice(from));
  return parts;
}

export const LogLine = memo(function LogLine({ index, text, query, current, height }: Props) {
  return (
    <div
      className={`log-line${current ? " log-line-current" : ""}`}
      style={{ height, lineHeight: `${height}px` }}
      data-testid="log-line"
      data-line={index + 1}
    >
      <span className="log-line-number" aria-hidden="true">
        {index + 1}
      </span>
      <span className="log-line-text">{highlight(text, query) || " "}</span>
    </div>
  );
});
