// A run's output as lines, built from byte-offset pages of /api/runs/{id}/logs.

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * A line as a terminal would show it: colour codes dropped, and for progress bars drawn with
 * carriage returns (tqdm) only the last redraw.
 */
export function displayLine(raw: string): string {
  let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  const cr = line.lastIndexOf("\r");
  if (cr >= 0) line = line.slice(cr + 1);
  return line.includes("\x1b") ? line.replace(ANSI, "") : line;
}

export class LogBuffer {
  readonly lines: string[] = [];
  /** The text after the last newline: a line the trainer is still writing. */
  private partial = "";

  append(text: string): void {
    if (!text) return;
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    // A loop, not push(...parts): spreading 100,000 arguments can overflow the stack.
    for (const part of parts) this.lines.push(displayLine(part));
  }

  get count(): number {
    return this.lines.length + (this.partial ? 1 : 0);
  }

  line(index: number): string {
    return index < this.lines.length ? (this.lines[index] ?? "") : displayLine(this.partial);
  }

  /** Indices of the lines containing `query`, ignoring case. */
  find(query: string): number[] {
    const needle = query.toLowerCase();
    if (!needle) return [];
    const hits: number[] = [];
    const count = this.count;
    for (let i = 0; i < count; i++) {
      if (this.line(i).toLowerCase().includes(needle)) hits.push(i);
    }
    return hits;
  }
}
