import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";

interface Props {
  count: number;
  /** Every row has this height in pixels, which is what makes windowing exact and cheap. */
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  /** Keep the last row in view as rows are added; scrolling up turns it off, to the end on. */
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
  /** Scroll so that this row is in the middle; `seq` lets the same row be asked for again. */
  scrollTo: { index: number; seq: number } | null;
  label: string;
  overscan?: number;
}

/** Used before the first layout (and in jsdom, which has none). */
const FALLBACK_HEIGHT = 480;

/** A scrolling list that only puts the rows in view (plus a margin) into the DOM. */
export function VirtualList({
  count,
  rowHeight,
  renderRow,
  follow,
  onFollowChange,
  scrollTo,
  label,
  overscan = 20,
}: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 0 });

  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => setView({ top: el.scrollTop, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [count, follow]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !scrollTo) return;
    const height = el.clientHeight || FALLBACK_HEIGHT;
    el.scrollTop = Math.max(0, scrollTo.index * rowHeight - height / 2 + rowHeight / 2);
    setView({ top: el.scrollTop, height: el.clientHeight });
  }, [scrollTo, rowHeight]);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    setView({ top: el.scrollTop, height: el.clientHeight });
    onFollowChange(el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight);
  };

  const height = view.height || FALLBACK_HEIGHT;
  const first = Math.max(0, Math.floor(view.top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((view.top + height) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) rows.push(renderRow(i));

  return (
    <div ref={ref} className="virtual-list" tabIndex={0} role="region" aria-label={label} onScroll={onScroll}>
      <div style={{ height: count * rowHeight, position: "relative" }}>
        <div style={{ position: "absolute", top: first * rowHeight, left: 0, right: 0 }}>{rows}</div>
      </div>
    </div>
  );
}
