// Loads a run's whole log page by page, then follows it: each change of `signal` (the run record
// changed: new output was indexed, or the run ended) reads on from the last byte offset.
import { useEffect, useRef, useState } from "react";
import { api as defaultApi, type Api } from "../api/client";
import { LogBuffer } from "./logBuffer";

const PAGE_BYTES = 1 << 20;

interface Session {
  buffer: LogBuffer;
  offset: number;
  busy: boolean;
  again: boolean;
  complete: boolean;
  controller: AbortController;
}

export interface LogLines {
  buffer: LogBuffer;
  /** Bumped whenever lines were added, so that memoised searches rerun. */
  version: number;
  loading: boolean;
  complete: boolean;
  error: unknown;
}

export function useLogLines(runId: string, signal: string, api: Api = defaultApi): LogLines {
  const session = useRef<Session | null>(null);
  const [state, setState] = useState({ version: 0, loading: true, complete: false, error: null as unknown });

  // One session per run id: a fresh buffer, and an abort of the old one's requests.
  const pump = useRef<(() => Promise<void>) | null>(null);
  useEffect(() => {
    const s: Session = {
      buffer: new LogBuffer(),
      offset: 0,
      busy: false,
      again: false,
      complete: false,
      controller: new AbortController(),
    };
    session.current = s;
    setState({ version: 0, loading: true, complete: false, error: null });
    pump.current = async () => {
      if (s.busy) {
        s.again = true; // a newer signal arrived mid-read: read on once this one is done
        return;
      }
      s.busy = true;
      try {
        do {
          s.again = false;
          for (;;) {
            const page = await api.getLogs(runId, s.offset, PAGE_BYTES, s.controller.signal);
            s.buffer.append(page.text);
            const moved = page.nextOffset > s.offset;
            s.offset = page.nextOffset;
            s.complete = page.complete;
            setState((old) => ({
              version: old.version + 1,
              loading: false,
              complete: page.complete,
              error: null,
            }));
            if (page.complete || !moved || s.offset >= page.size) break;
          }
        } while (s.again && !s.complete);
      } catch (error) {
        if (!s.controller.signal.aborted) setState((old) => ({ ...old, loading: false, error }));
      } finally {
        s.busy = false;
      }
    };
    void pump.current();
    return () => s.controller.abort();
  }, [runId, api]);

  const lastSignal = useRef(signal);
  useEffect(() => {
    if (lastSignal.current === signal) return; // the first read is already under way
    lastSignal.current = signal;
    if (session.current && !session.current.complete) void pump.current?.();
  }, [signal]);

  return { buffer: session.current?.buffer ?? EMPTY, ...state };
}

const EMPTY = new LogBuffer();
