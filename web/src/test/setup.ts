// Shared set-up for Vitest (jsdom).
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

// uPlot draws on a canvas, which jsdom lacks; charts are checked in the browser (end-to-end).
// The stand-in records what it was given, so tests can still see the data a chart received.
// One stand-in class for the whole worker: with `isolate: false` (vite.config.ts) this file runs
// again for each test file while modules imported by an earlier file keep the class they got.
vi.mock("uplot", () => {
  const shared = globalThis as { vtmFakePlot?: unknown };
  class FakePlot {
    static instances: FakePlot[] = [];
    data: unknown;
    constructor(
      readonly opts: { series: { label?: string }[] },
      data: unknown,
      readonly target: HTMLElement,
    ) {
      this.data = data;
      FakePlot.instances.push(this);
    }
    setData(data: unknown) {
      this.data = data;
    }
    setSize() {}
    destroy() {}
  }
  shared.vtmFakePlot ??= FakePlot;
  return { default: shared.vtmFakePlot };
});

if (typeof globalThis.ResizeObserver === "undefined") {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}

afterEach(() => {
  cleanup();
  if (typeof window !== "undefined") window.localStorage.clear(); // not in the node-environment files
});
