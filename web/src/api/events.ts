// The live feed: one EventSource on /api/events whose run records (and the GPUs' state) are
// folded into the query cache as they arrive. While the stream is down the run and GPU queries
// are polled instead (every 2 s), and when it comes back anything that may have been missed is
// refetched.
import type { QueryClient } from "@tanstack/react-query";
import { applyRunRecord } from "./cache";
import { keys } from "./keys";
import type { GpusResponse, RunRecord } from "./types";

export type ConnectionState = "connecting" | "live" | "catching-up" | "polling-fallback";

export const CONNECTION_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  "catching-up": "Catching up…",
  "polling-fallback": "Reconnecting…",
};

/** The part of the browser's EventSource used here; tests hand in a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

export interface RunEventStreamOptions {
  url: () => string;
  createEventSource?: (url: string) => EventSourceLike;
  pollIntervalMs?: number;
  /** Waits before reopening a stream the browser gave up on (it retries network errors itself). */
  reconnectDelaysMs?: readonly number[];
  /** Metric charts refetch at most this often per run while progress lines stream in. */
  metricsThrottleMs?: number;
  /** Coalesces the `hello` (not replayed) + `resync` pair the server sends into one refetch. */
  resyncDelayMs?: number;
}

const OPEN = 1;
const CLOSED = 2;
const PUSHED_LIMIT = 500;
const PUSHED_TTL_MS = 30_000;
const RUN_EVENTS = ["run.created", "run.updated", "run.finished"] as const;

function parseRun(data: string): RunRecord | null {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== "object" || value === null) return null;
    const run = value as Partial<RunRecord>;
    const ok = typeof run.id === "string" && typeof run.status === "string";
    return ok && typeof run.updatedAt === "string" ? (value as RunRecord) : null;
  } catch {
    return null; // a damaged event must not break the feed; the next one or a resync repairs it
  }
}

function parseGpus(data: string): GpusResponse | null {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== "object" || value === null) return null;
    const { gpus, source } = value as Partial<GpusResponse>;
    return Array.isArray(gpus) && typeof source === "string" ? (value as GpusResponse) : null;
  } catch {
    return null;
  }
}

/** A pushed run that took GPUs or gave them back, which the cached GPUs do not show yet. */
function gpusDisagree(gpus: GpusResponse | undefined, run: RunRecord): boolean {
  if (!gpus) return false;
  const holds = new Set(run.status === "running" ? run.gpus : []);
  return gpus.gpus.some((gpu) => (gpu.runId === run.id) !== holds.has(gpu.index));
}

function parseHello(data: string): { boot: string | null; replayed: boolean } {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== "object" || value === null) return { boot: null, replayed: false };
    const { boot, replayed } = value as { boot?: unknown; replayed?: unknown };
    return { boot: typeof boot === "string" ? boot : null, replayed: replayed === true };
  } catch {
    return { boot: null, replayed: false };
  }
}

type Timer = ReturnType<typeof setTimeout>;

export class RunEventStream {
  private source: EventSourceLike | null = null;
  private state: ConnectionState = "connecting";
  private readonly listeners = new Set<() => void>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: Timer | null = null;
  private reconnectAttempt = 0;
  private resyncTimer: Timer | null = null;
  private resyncGeneration = 0;
  private readonly metricsTimers = new Map<string, { timer: Timer; pending: boolean }>();
  /** The server boot and last event id seen, to tell whether a replay can be trusted. */
  private boot: string | null = null;
  private lastEventId = "";
  /**
   * Records the stream pushed lately. A fetch sent before an event but answered after it
   * would put the older record back (a finished run shown running again), so each successful
   * fetch of run data is followed by re-applying these; `newer` keeps whichever is newer.
   */
  private readonly pushed = new Map<string, { run: RunRecord; at: number }>();
  private unsubscribeCache: (() => void) | null = null;

  constructor(
    private readonly client: QueryClient,
    private readonly options: RunEventStreamOptions,
  ) {}

  readonly getState = (): ConnectionState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  start(): void {
    this.unsubscribeCache ??= this.client.getQueryCache().subscribe((event) => {
      if (event.type !== "updated" || event.action.type !== "success" || event.action.manual) return;
      if (event.query.queryKey[0] !== keys.runs[0]) return;
      this.reapplyPushed();
    });
    if (this.source || this.reconnectTimer) return;
    this.connect();
  }

  private reapplyPushed(): void {
    const horizon = Date.now() - PUSHED_TTL_MS;
    for (const [id, { run, at }] of this.pushed) {
      if (at < horizon) this.pushed.delete(id);
      else applyRunRecord(this.client, run);
    }
  }

  stop(): void {
    this.unsubscribeCache?.();
    this.unsubscribeCache = null;
    this.pushed.clear();
    this.source?.close();
    this.source = null;
    this.stopPolling();
    for (const timer of [this.reconnectTimer, this.resyncTimer]) if (timer) clearTimeout(timer);
    this.reconnectTimer = this.resyncTimer = null;
    for (const { timer } of this.metricsTimers.values()) clearTimeout(timer);
    this.metricsTimers.clear();
    this.setState("connecting");
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  private connect(): void {
    this.reconnectTimer = null;
    const create = this.options.createEventSource ?? ((url: string) => new EventSource(url));
    const source = create(this.options.url());
    this.source = source;
    // Each handler first checks that its source is still the current one: a replaced stream
    // may still deliver a queued event.
    const mine = () => this.source === source;
    source.onopen = () => {
      if (!mine()) return;
      this.reconnectAttempt = 0;
      this.stopPolling();
      if (this.state === "polling-fallback") this.setState("catching-up");
    };
    source.onerror = () => {
      if (mine()) this.onError(source);
    };
    let helloSeen = false;
    source.addEventListener("hello", (event) => {
      if (!mine()) return;
      const hello = parseHello(event.data);
      // Only a browser reconnect of this same stream sends Last-Event-ID, and only once some
      // event carried an id; otherwise (first connection, a stream we reopened, another server
      // boot) "replayed" covers nothing we missed, so everything is refetched.
      const trusted = hello.replayed && helloSeen && this.lastEventId !== "" && hello.boot === this.boot;
      helloSeen = true;
      this.boot = hello.boot;
      if (trusted) this.setState("live");
      else this.scheduleResync();
    });
    source.addEventListener("resync", () => {
      if (mine()) this.scheduleResync();
    });
    source.addEventListener("catalog.reloaded", () => {
      if (mine()) void this.client.invalidateQueries({ queryKey: keys.catalog });
    });
    source.addEventListener("gpus.updated", (event) => {
      const gpus = mine() ? parseGpus(event.data) : null;
      if (gpus) this.client.setQueryData<GpusResponse>(keys.gpus, gpus);
    });
    for (const type of RUN_EVENTS) {
      source.addEventListener(type, (event) => {
        if (mine() && event.lastEventId) this.lastEventId = event.lastEventId;
        const run = mine() ? parseRun(event.data) : null;
        if (!run) return;
        this.pushed.delete(run.id); // re-inserted last: the map's order is oldest first
        this.pushed.set(run.id, { run, at: Date.now() });
        const oldest = this.pushed.keys().next();
        if (this.pushed.size > PUSHED_LIMIT && !oldest.done) this.pushed.delete(oldest.value);
        applyRunRecord(this.client, run);
        // A run started or ended: who holds which GPU changed now, not at the next sample.
        if (gpusDisagree(this.client.getQueryData<GpusResponse>(keys.gpus), run)) {
          void this.client.invalidateQueries({ queryKey: keys.gpus });
        }
        if (type !== "run.created") this.refreshMetrics(run.id, type === "run.finished");
      });
    }
  }

  private onError(source: EventSourceLike): void {
    // While the stream is down what the server answers is the truth; nothing pushed is newer.
    this.pushed.clear();
    this.setState("polling-fallback");
    this.startPolling();
    if (source.readyState !== CLOSED) return; // the browser is already retrying
    // The browser gave up (e.g. a proxy answered 502 while the server restarted): retry
    // ourselves. A new EventSource sends no Last-Event-ID, so the server will ask for a resync.
    source.close();
    this.source = null;
    const delays = this.options.reconnectDelaysMs ?? [1000, 2000, 5000, 10000];
    const delay = delays[Math.min(this.reconnectAttempt, delays.length - 1)] ?? 1000;
    this.reconnectAttempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      void this.client.refetchQueries({ queryKey: keys.runs, type: "active" });
      void this.client.refetchQueries({ queryKey: keys.gpus, type: "active" });
    }, this.options.pollIntervalMs ?? 2000);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private scheduleResync(): void {
    // On the first connection the page is still "connecting" until the refetch is done.
    if (this.state !== "connecting") this.setState("catching-up");
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => void this.resync(), this.options.resyncDelayMs ?? 50);
  }

  private async resync(): Promise<void> {
    this.resyncTimer = null;
    const generation = ++this.resyncGeneration;
    await Promise.all([
      this.client.invalidateQueries({ queryKey: keys.runs }),
      this.client.invalidateQueries({ queryKey: keys.catalog }),
      this.client.invalidateQueries({ queryKey: keys.gpus }),
    ]);
    // Only the latest resync may declare the page live, and only if the stream is still up.
    const current = generation === this.resyncGeneration && this.source?.readyState === OPEN;
    if (current && (this.state === "catching-up" || this.state === "connecting")) this.setState("live");
  }

  /** Throttled (leading and trailing) refetch of a run's metrics, if anything shows them. */
  private refreshMetrics(id: string, now: boolean): void {
    const key = keys.metrics(id);
    if (!this.client.getQueryState(key)) return;
    const entry = this.metricsTimers.get(id);
    if (entry && !now) {
      entry.pending = true;
      return;
    }
    if (entry) clearTimeout(entry.timer);
    void this.client.invalidateQueries({ queryKey: key });
    const timer = setTimeout(() => {
      const done = this.metricsTimers.get(id);
      this.metricsTimers.delete(id);
      if (done?.pending) this.refreshMetrics(id, false);
    }, this.options.metricsThrottleMs ?? 500);
    this.metricsTimers.set(id, { timer, pending: false });
  }
}
