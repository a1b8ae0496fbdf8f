import { describe, expect, it, vi } from "vitest";
import { json, makeRun } from "../test/fixtures";
import { createApi } from "./client";
import { ApiError, HttpError, NetworkError } from "./errors";

function apiWith(respond: (request: Request) => Response | Promise<Response>, token: string | null = null) {
  const fetch = vi.fn(async (request: Request) => respond(request));
  return { api: createApi({ baseUrl: "http://vtm.test", fetch, token: () => token }), fetch };
}

describe("API client", () => {
  it("returns the typed body and sends filters as query parameters", async () => {
    const run = makeRun();
    const { api, fetch } = apiWith(() => json({ runs: [run], nextCursor: "41" }));
    const page = await api.listRuns({
      status: ["running", "queued"],
      taskId: "digits-cnn",
      limit: 50,
      cursor: "42",
    });
    expect(page.runs[0]?.id).toBe(run.id);
    expect(page.nextCursor).toBe("41");
    const url = new URL(fetch.mock.calls[0]![0].url);
    expect(url.pathname).toBe("/api/runs");
    expect(url.searchParams.getAll("status")).toEqual(["running", "queued"]);
    expect(url.searchParams.get("taskId")).toBe("digits-cnn");
    expect(url.searchParams.get("cursor")).toBe("42");
  });

  it("turns a 422 body into an HttpError with one entry per field", async () => {
    const body = {
      error: {
        code: "validation_failed",
        message: "epochs: must be at least 1 (got 0)",
        fields: [{ field: "epochs", message: "must be at least 1 (got 0)" }],
      },
    };
    const { api } = apiWith(() => json(body, 422));
    const error = await api
      .startRun({ taskId: "digits-cnn", fields: { epochs: 0 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toBeInstanceOf(ApiError);
    const http = error as HttpError;
    expect(http.status).toBe(422);
    expect(http.isValidation).toBe(true);
    expect(http.code).toBe("validation_failed");
    expect(http.message).toBe("epochs: must be at least 1 (got 0)");
    expect(http.fields).toEqual([{ field: "epochs", message: "must be at least 1 (got 0)" }]);
  });

  it("recognises an unknown run", async () => {
    const { api } = apiWith(() =>
      json({ error: { code: "not_found", message: "no run 'x'", fields: [] } }, 404),
    );
    const error = (await api.getRun("x").catch((e: unknown) => e)) as HttpError;
    expect(error.isNotFound).toBe(true);
    expect(error.message).toBe("no run 'x'");
  });

  it("copes with an error body that is not VTM's (a proxy's 502 page)", async () => {
    const { api } = apiWith(
      () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    const error = (await api.getCatalog().catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.code).toBe("http_error");
    expect(error.status).toBe(502);
    expect(error.fields).toEqual([]);
  });

  it("reports an unreachable server as a NetworkError", async () => {
    const { api } = apiWith(() => Promise.reject(new TypeError("fetch failed")));
    const error = await api.getConfig().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).cause).toBeInstanceOf(TypeError);
  });

  it("sends the token as a Bearer header and on the event stream URL", async () => {
    const { api, fetch } = apiWith(() => json({ version: "1", mlflowUiUrl: null }), "s3cret");
    await api.getConfig();
    expect(fetch.mock.calls[0]![0].headers.get("authorization")).toBe("Bearer s3cret");
    expect(api.eventsUrl()).toBe("http://vtm.test/api/events?token=s3cret");
  });

  it("reads logs by byte offset", async () => {
    const page = { runId: "r", offset: 10, nextOffset: 20, size: 20, text: "hello\n", complete: false };
    const { api, fetch } = apiWith(() => json(page));
    expect(await api.getLogs("r", 10, 4096)).toEqual(page);
    const url = new URL(fetch.mock.calls[0]![0].url);
    expect(url.pathname).toBe("/api/runs/r/logs");
    expect(url.searchParams.get("offset")).toBe("10");
    expect(url.searchParams.get("limit")).toBe("4096");
  });
});
