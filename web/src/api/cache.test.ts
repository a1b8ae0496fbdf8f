import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { makeRun } from "../test/fixtures";
import { applyRunRecord, matchesFilters, newer, upsertIntoPage } from "./cache";
import { keys } from "./keys";
import type { RunFilters, RunPage, RunRecord } from "./types";

const older = makeRun({ id: "old", createdAt: "2026-11-26T10:00:00Z" });
const middle = makeRun({ id: "mid", createdAt: "2026-11-26T11:00:00Z" });

describe("cache updates", () => {
  it("keeps the newer version of a run", () => {
    const a = makeRun({ updatedAt: "2026-11-26T12:00:05Z", lineCount: 5 });
    const b = makeRun({ updatedAt: "2026-11-26T12:00:03Z", lineCount: 3 });
    expect(newer(a, b)).toBe(a);
    expect(newer(b, a)).toBe(a);
    expect(newer(undefined, b)).toBe(b);
  });

  it("matches status, task and date filters", () => {
    const run = makeRun({ status: "running", createdAt: "2026-11-26T12:00:00Z" });
    expect(matchesFilters(run, { status: ["running", "queued"] })).toBe(true);
    expect(matchesFilters(run, { status: ["completed"] })).toBe(false);
    expect(matchesFilters(run, { taskId: "other" })).toBe(false);
    expect(matchesFilters(run, { createdAfter: "2026-11-26T12:00:00Z" })).toBe(true);
    expect(matchesFilters(run, { createdBefore: "2026-11-26T12:00:00Z" })).toBe(false);
  });

  it("inserts a new run newest-first into a first page only", () => {
    const page = { runs: [middle, older], nextCursor: null };
    const fresh = makeRun({ id: "new", createdAt: "2026-11-26T12:00:00Z" });
    expect(upsertIntoPage(page, fresh, {}).runs.map((r) => r.id)).toEqual(["new", "mid", "old"]);
    expect(upsertIntoPage(page, fresh, { cursor: "7" })).toBe(page);
  });

  it("drops a run that no longer matches the list's filters", () => {
    const running = makeRun({ id: "mid", status: "running" });
    const page = { runs: [running], nextCursor: null };
    const done = { ...running, status: "completed" as const, updatedAt: "2026-11-26T13:00:00Z" };
    expect(upsertIntoPage(page, done, { status: ["running", "queued"] }).runs).toEqual([]);
  });

  it("does not bring a finished run back into the active list with an older answer", () => {
    const client = new QueryClient();
    const active: RunFilters = { status: ["queued", "running"], limit: 200 };
    const running = makeRun({ status: "running", stopRequested: true, updatedAt: "2026-11-26T12:00:01Z" });
    client.setQueryData<RunPage>(keys.runList(active), { runs: [running], nextCursor: null });
    // The pushed "stopped" comes first, the stop request's answer (still running) after it.
    applyRunRecord(client, { ...running, status: "stopped", updatedAt: "2026-11-26T12:00:02Z" });
    applyRunRecord(client, running);
    expect(client.getQueryData<RunPage>(keys.runList(active))?.runs).toEqual([]);
    expect(client.getQueryData<RunRecord>(keys.run(running.id))?.status).toBe("stopped");
  });
});
