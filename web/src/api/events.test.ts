import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../test/fakeEventSource";
import { makeGpu, makeRun } from "../test/fixtures";
import { RunEventStream } from "./events";
import { keys } from "./keys";
import type { GpusResponse, RunFilters, RunPage, RunRecord } from "./types";

const ACTIVE: RunFilters = { status: ["queued", "running"], limit: 200 };
const FINISHED: RunFilters = { status: ["completed", "failed", "stopped"], limit: 10 };

let client: QueryClient;
let stream: RunEventStream;
let states: string[];

function connect(): FakeEventSource {
  stream.start();
  return FakeEventSource.latest();
}

/** An active query on the active-runs list whose fetches are counted. */
function watchActiveList(page: RunPage) {
  const queryFn = vi.fn(async () => page);
  const observer = new QueryObserver(client, {
    queryKey: keys.runList(ACTIVE),
    queryFn,
    staleTime: Infinity,
  });
  const unsubscribe = observer.subscribe(() => {});
  return { queryFn, unsubscribe };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.instances = [];
  client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  stream = new RunEventStream(client, {
    url: () => "http://vtm.test/api/events",
    createEventSource: (url) => new FakeEventSource(url),
  });
  states = [];
  stream.subscribe(() => states.push(stream.getState()));
});

afterEach(() => {
  stream.stop();
  client.clear();
  vi.useRealTimers();
});

describe("the event stream feeds the query cache", () => {
  it("writes run.updated into the run and into every list that shows it", () => {
    const run = makeRun({ progress: { epoch: 1, total_epochs: 10 } });
    client.setQueryData(keys.run(run.id), run);
    client.setQueryData<RunPage>(keys.runList(ACTIVE), { runs: [run], nextCursor: null });
    const source = connect();
    const later: RunRecord = {
      ...run,
      progress: { epoch: 2, total_epochs: 10 },
      updatedAt: "2026-11-26T12:00:09Z",
    };
    source.emit("run.updated", later, "b-1");
    expect(client.getQueryData<RunRecord>(keys.run(run.id))?.progress.epoch).toBe(2);
    expect(client.getQueryData<RunPage>(keys.runList(ACTIVE))?.runs[0]?.progress.epoch).toBe(2);
  });

  it("adds created runs to matching lists and moves finished ones between lists", () => {
    client.setQueryData<RunPage>(keys.runList(ACTIVE), { runs: [], nextCursor: null });
    client.setQueryData<RunPage>(keys.runList(FINISHED), { runs: [], nextCursor: null });
    const source = connect();
    const run = makeRun({ status: "queued" });
    source.emit("run.created", run, "b-1");
    expect(client.getQueryData<RunPage>(keys.runList(ACTIVE))?.runs.map((r) => r.id)).toEqual([run.id]);
    expect(client.getQueryData<RunPage>(keys.runList(FINISHED))?.runs).toEqual([]);
    source.emit("run.finished", { ...run, status: "completed", updatedAt: "2026-11-26T12:05:00Z" }, "b-2");
    expect(client.getQueryData<RunPage>(keys.runList(ACTIVE))?.runs).toEqual([]);
    expect(client.getQueryData<RunPage>(keys.runList(FINISHED))?.runs.map((r) => r.status)).toEqual([
      "completed",
    ]);
  });

  it("keeps a pushed finish when a fetch sent before it is answered after it", async () => {
    const run = makeRun({ status: "running", updatedAt: "2026-11-26T12:00:00Z" });
    let answer: (page: RunPage) => void = () => {};
    const queryFn = vi.fn(() => new Promise<RunPage>((resolve) => (answer = resolve)));
    const observer = new QueryObserver(client, { queryKey: keys.runList(ACTIVE), queryFn });
    const unsubscribe = observer.subscribe(() => {});
    const source = connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(1); // in flight, holding the run as running
    const finished = { ...run, status: "completed" as const, updatedAt: "2026-11-26T12:00:05Z" };
    source.emit("run.finished", finished, "b-1");
    answer({ runs: [run], nextCursor: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getQueryData<RunPage>(keys.runList(ACTIVE))?.runs).toEqual([]);
    unsubscribe();
  });

  it("writes gpus.updated into the GPUs query, and refetches it when a run takes or frees GPUs", async () => {
    const run = makeRun({ status: "running", gpus: [1] });
    const held: GpusResponse = {
      source: "declared",
      gpus: [makeGpu({ index: 0 }), makeGpu({ index: 1, runId: run.id })],
    };
    const queryFn = vi.fn(async () => held);
    const observer = new QueryObserver(client, { queryKey: keys.gpus, queryFn, staleTime: Infinity });
    const unsubscribe = observer.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(1);
    const source = connect();

    const pushed: GpusResponse = {
      ...held,
      gpus: [makeGpu({ index: 0, utilization: 50 }), makeGpu({ index: 1 })],
    };
    source.emit("gpus.updated", pushed);
    expect(client.getQueryData(keys.gpus)).toEqual(pushed);
    source.emitRaw("gpus.updated", "{not json");
    source.emit("gpus.updated", { gpus: "none" });
    expect(client.getQueryData(keys.gpus)).toEqual(pushed);

    // The cache says GPU 1 is free, the run says it holds it: who holds what is refetched.
    source.emit("run.updated", run, "b-1");
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(2);
    // Its progress lines agree with the GPUs now: nothing to refetch.
    source.emit("run.updated", { ...run, lineCount: 3 }, "b-2");
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(2);
    // It ended while the cache still shows it on GPU 1.
    source.emit("run.finished", { ...run, status: "completed", updatedAt: "2026-11-26T12:05:00Z" }, "b-3");
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(3);
    unsubscribe();
  });

  it("ignores a damaged event", () => {
    const source = connect();
    expect(() => source.emitRaw("run.updated", "{not json")).not.toThrow();
    expect(() => source.emit("run.updated", { id: 3 })).not.toThrow();
    expect(client.getQueryCache().getAll()).toHaveLength(0);
  });

  it("refetches the runs shown when the server says to resync", async () => {
    const { queryFn } = watchActiveList({ runs: [], nextCursor: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(1);
    const source = connect();
    source.open();
    // A first connection: hello, then the resync the server sends with it; one refetch.
    source.emit("hello", { boot: "b", replayed: false });
    source.emit("resync", {});
    await vi.advanceTimersByTimeAsync(100);
    expect(queryFn).toHaveBeenCalledTimes(2);
    expect(stream.getState()).toBe("live");
    source.emit("resync", {});
    expect(stream.getState()).toBe("catching-up");
    await vi.advanceTimersByTimeAsync(100);
    expect(queryFn).toHaveBeenCalledTimes(3);
    expect(stream.getState()).toBe("live");
  });
});

describe("connection state and the polling fallback", () => {
  it("polls every 2 s while the stream is down and stops when it is back", async () => {
    const { queryFn } = watchActiveList({ runs: [], nextCursor: null });
    await vi.advanceTimersByTimeAsync(0);
    const source = connect();
    expect(stream.getState()).toBe("connecting");
    source.open();
    source.emit("hello", { boot: "b", replayed: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(stream.getState()).toBe("live");
    source.emit("run.updated", makeRun(), "b-7");
    const before = queryFn.mock.calls.length;

    source.fail(); // the browser retries by itself
    expect(stream.getState()).toBe("polling-fallback");
    await vi.advanceTimersByTimeAsync(2000);
    expect(queryFn.mock.calls.length).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(queryFn.mock.calls.length).toBe(before + 3);

    // Back, with a replay of what was missed (same boot, Last-Event-ID sent): live again at once.
    source.open();
    expect(stream.getState()).toBe("catching-up");
    source.emit("hello", { boot: "b", replayed: true });
    expect(stream.getState()).toBe("live");
    const after = queryFn.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(queryFn.mock.calls.length).toBe(after);
    expect(states).toEqual(["live", "polling-fallback", "catching-up", "live"]);
  });

  it("refetches after a server restart (another boot) before saying live", async () => {
    const { queryFn } = watchActiveList({ runs: [], nextCursor: null });
    await vi.advanceTimersByTimeAsync(0);
    const source = connect();
    source.open();
    source.emit("hello", { boot: "one", replayed: true });
    source.emit("run.updated", makeRun(), "one-3");
    await vi.advanceTimersByTimeAsync(100);
    const before = queryFn.mock.calls.length;
    source.fail();
    source.open();
    source.emit("hello", { boot: "two", replayed: false });
    expect(stream.getState()).toBe("catching-up");
    await vi.advanceTimersByTimeAsync(100);
    expect(queryFn.mock.calls.length).toBe(before + 1);
    expect(stream.getState()).toBe("live");
  });

  it("opens a new stream when the browser gives up, and does not trust its replay", async () => {
    const { queryFn } = watchActiveList({ runs: [], nextCursor: null });
    await vi.advanceTimersByTimeAsync(0);
    const first = connect();
    first.open();
    first.emit("hello", { boot: "b", replayed: true });
    first.emit("run.updated", makeRun(), "b-1");
    first.fail(true);
    expect(first.closed).toBe(true);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    const second = FakeEventSource.latest();
    second.open();
    const before = queryFn.mock.calls.length;
    // No Last-Event-ID on a new EventSource: the server's "replayed" covers nothing we missed.
    second.emit("hello", { boot: "b", replayed: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(queryFn.mock.calls.length).toBe(before + 1);
    expect(stream.getState()).toBe("live");
    // Events from the abandoned stream are ignored.
    first.emit("run.updated", makeRun({ id: "ghost" }), "b-2");
    expect(client.getQueryData(keys.run("ghost"))).toBeUndefined();
  });

  it("refetches a run's metrics at most twice per throttle window", async () => {
    const run = makeRun();
    const queryFn = vi.fn(async () => ({ runId: run.id, series: {} }));
    const observer = new QueryObserver(client, {
      queryKey: keys.metrics(run.id),
      queryFn,
      staleTime: Infinity,
    });
    observer.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    const source = connect();
    for (let i = 0; i < 10; i++) source.emit("run.updated", { ...run, lineCount: i }, `b-${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(queryFn).toHaveBeenCalledTimes(2); // the first fetch and the leading refresh
    await vi.advanceTimersByTimeAsync(600);
    expect(queryFn).toHaveBeenCalledTimes(3); // the trailing refresh
  });
});
