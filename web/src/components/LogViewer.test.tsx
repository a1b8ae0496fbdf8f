import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { createApi } from "../api/client";
import type { LogPage } from "../api/types";
import { json, makeRun } from "../test/fixtures";
import { LogViewer } from "./LogViewer";
import { VirtualList } from "./VirtualList";

const LINES = 100_000;

/** A server holding `text` (ASCII, so characters are bytes) that pages it like VTM does. */
function logServer(initial: string, complete: () => boolean) {
  let text = initial;
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const offset = Number(url.searchParams.get("offset"));
    const limit = Number(url.searchParams.get("limit"));
    let chunk = text.slice(offset, offset + limit);
    if (offset + chunk.length < text.length) chunk = chunk.slice(0, chunk.lastIndexOf("\n") + 1);
    const next = offset + chunk.length;
    const page: LogPage = {
      runId: "r",
      offset,
      nextOffset: next,
      size: text.length,
      text: chunk,
      complete: complete() && next >= text.length,
    };
    return json(page);
  });
  return {
    api: createApi({ baseUrl: "http://vtm.test", fetch }),
    fetch,
    append: (more: string) => (text += more),
  };
}

function numbered(from: number, to: number): string {
  let out = "";
  for (let i = from; i <= to; i++) out += `line ${i} loss=${(1 / i).toFixed(5)}\n`;
  return out;
}

describe("VirtualList", () => {
  it("puts only a window of 100,000 rows into the DOM, and moves it on scroll", () => {
    const renderRow = (i: number) => <div key={i} data-testid="row">{`row ${i}`}</div>;
    const props = {
      count: LINES,
      rowHeight: 20,
      renderRow,
      follow: false,
      onFollowChange: () => {},
      scrollTo: null,
      label: "rows",
    };
    render(<VirtualList {...props} />);
    const rows = screen.getAllByTestId("row");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(100);
    expect(rows[0]).toHaveTextContent("row 0");
    const list = screen.getByRole("region", { name: "rows" });
    expect((list.firstElementChild as HTMLElement).style.height).toBe(`${LINES * 20}px`);
    list.scrollTop = 50_000 * 20;
    fireEvent.scroll(list);
    expect(screen.getByText("row 50000")).toBeInTheDocument();
    expect(screen.queryByText("row 0")).toBeNull();
    expect(screen.getAllByTestId("row").length).toBeLessThan(100);
  });
});

describe("LogViewer", () => {
  it("loads 100,000 lines by byte offset but renders only a window of them", async () => {
    const server = logServer(numbered(1, LINES), () => true);
    const run = makeRun({ status: "completed", lineCount: LINES });
    render(<LogViewer run={run} api={server.api} />);
    await waitFor(() => expect(screen.getByTestId("log-line-count")).toHaveTextContent("100,000 lines"), {
      timeout: 10_000,
    });
    expect(server.fetch.mock.calls.length).toBeGreaterThan(1); // more than one page
    const rendered = screen.getAllByTestId("log-line");
    expect(rendered.length).toBeLessThan(100);
    expect(rendered[0]).toHaveAttribute("data-line", "1");
  });

  it("searches all lines, highlights matches and jumps between them", async () => {
    const server = logServer(numbered(1, LINES), () => true);
    const user = userEvent.setup();
    render(<LogViewer run={makeRun({ status: "completed" })} api={server.api} />);
    await waitFor(() => expect(screen.getByTestId("log-line-count")).toHaveTextContent("100,000 lines"), {
      timeout: 10_000,
    });
    await user.type(screen.getByTestId("log-search"), "line 7777");
    // "line 7777" and "line 77770".."line 77779"
    await waitFor(() => expect(screen.getByTestId("log-search-count")).toHaveTextContent("11 lines"));
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("log-search-count")).toHaveTextContent("1 / 11");
    const first = await screen.findByText((_, el) => el?.getAttribute("data-line") === "7777");
    expect(first).toHaveClass("log-line-current");
    expect(first.querySelector("mark")).toHaveTextContent("line 7777");
    await user.click(screen.getByTestId("log-search-next"));
    expect(screen.getByTestId("log-search-count")).toHaveTextContent("2 / 11");
    await user.click(screen.getByTestId("log-search-prev"));
    await user.click(screen.getByTestId("log-search-prev"));
    expect(screen.getByTestId("log-search-count")).toHaveTextContent("11 / 11");
    expect(await screen.findByText((_, el) => el?.getAttribute("data-line") === "77779")).toHaveClass(
      "log-line-current",
    );
  });

  it("follows a running run: a newer run record reads on from the last offset", async () => {
    let ended = false;
    const server = logServer("epoch 1\nepoch 2 (still writ", () => ended);
    const run = makeRun({ status: "running", lineCount: 2 });
    const { rerender } = render(<LogViewer run={run} api={server.api} />);
    await waitFor(() => expect(screen.getByTestId("log-line-count")).toHaveTextContent("2 lines"));
    expect(screen.getByTestId("log-follow")).toBeChecked();
    server.append("ing)\nepoch 3\n");
    ended = true;
    const calls = server.fetch.mock.calls.length;
    await act(async () => {
      rerender(
        <LogViewer
          run={{ ...run, status: "completed", lineCount: 3, updatedAt: "2026-11-26T12:09:00Z" }}
          api={server.api}
        />,
      );
    });
    await waitFor(() => expect(screen.getByTestId("log-line-count")).toHaveTextContent("3 lines"));
    const offsets = server.fetch.mock.calls
      .slice(calls)
      .map(([r]) => new URL(r.url).searchParams.get("offset"));
    expect(offsets).toEqual([String("epoch 1\nepoch 2 (still writ".length)]);
    expect(screen.getByText("epoch 2 (still writing)")).toBeInTheDocument();
    expect(screen.getByText("epoch 3")).toBeInTheDocument();
  });
});
