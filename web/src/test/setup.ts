// Shared set-up for Vitest (jsdom).
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

// uPlot draws on a canvas, which jsdom lacks; charts are checked in the browser (end-to-end).
// The stand-in records what it was given, so tests can still see the data a chart received.
vi.mock("uplot", () => {
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
  return { default: FakePlot };
});

if (typeof globalThis.ResizeObserver === "undefined") {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}

afterEach(() => cleanup());
