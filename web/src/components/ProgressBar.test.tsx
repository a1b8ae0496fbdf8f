import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeRun } from "../test/fixtures";
import { ProgressBar } from "./ProgressBar";

const now = Date.parse("2026-11-26T12:01:00Z");

describe("ProgressBar", () => {
  it("is a real progressbar with epoch / total_epochs, percent and ETA", () => {
    const run = makeRun({ startedAt: "2026-11-26T12:00:00Z", progress: { epoch: 3, total_epochs: 12 } });
    render(<ProgressBar run={run} now={now} />);
    const bar = screen.getByRole("progressbar");
    expect(bar).toHaveAttribute("data-testid", `progress-${run.id}`);
    expect(bar).toHaveAttribute("aria-valuenow", "3");
    expect(bar).toHaveAttribute("aria-valuemax", "12");
    expect(bar).toHaveAttribute("aria-valuemin", "0");
    // 60 s for 3 epochs, 9 to go: 3 minutes.
    expect(screen.getByTestId(`progress-text-${run.id}`)).toHaveTextContent("3 / 12 · 25% · ETA 3m 00s");
  });

  it("is indeterminate (no aria-valuenow) before the first progress line", () => {
    const run = makeRun({ status: "queued", startedAt: null });
    render(<ProgressBar run={run} now={now} />);
    const bar = screen.getByRole("progressbar");
    expect(bar).not.toHaveAttribute("aria-valuenow");
    expect(screen.getByTestId(`progress-text-${run.id}`)).toHaveTextContent("waiting");
  });

  it("shows a finished run without an ETA", () => {
    const run = makeRun({ status: "completed", progress: { epoch: 5, total_epochs: 5 } });
    render(<ProgressBar run={run} now={now} />);
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "5");
    expect(screen.getByTestId(`progress-text-${run.id}`)).toHaveTextContent(/^5 \/ 5 · 100%$/);
  });
});
