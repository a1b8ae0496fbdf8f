// Builders for wire records and a render helper with the app's providers.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import { vi } from "vitest";
import type { CatalogField, Gpu, RunRecord, Task } from "../api/types";

export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: "20261126-120000-aaaaaa",
    taskId: "digits-cnn",
    status: "running",
    fields: { epochs: 10 },
    command: ["python", "train.py", "--epochs=10"],
    progress: {},
    mlflowRunId: null,
    logs: [],
    exitCode: null,
    createdAt: "2026-11-26T12:00:00Z",
    startedAt: "2026-11-26T12:00:01Z",
    finishedAt: null,
    error: null,
    meta: {},
    stopRequested: false,
    lineCount: 0,
    protocolErrors: 0,
    gpus: [],
    executor: "local",
    host: null,
    node: null,
    updatedAt: "2026-11-26T12:00:01Z",
    origin: { kind: "person", airflow: null, previousTryRunId: null, host: null },
    workFolder: false,
    priority: 0,
    queue: null,
    gpuHours: 0,
    energyWh: null,
    cost: null,
    ...overrides,
  };
}

export function makeField(
  overrides: Partial<CatalogField> & Pick<CatalogField, "name" | "type">,
): CatalogField {
  return {
    default: null,
    required: false,
    min: null,
    max: null,
    choices: null,
    label: null,
    help: null,
    flag: `--${overrides.name}`,
    ...overrides,
  };
}

export function makeTask(overrides: Partial<Task> = {}): Task {
  return {
    id: "digits-cnn",
    title: "Digits CNN",
    description: null,
    baseTaskType: "classification",
    primaryMetric: { name: "val_accuracy", goal: "max" },
    gpus: 0,
    priority: 0,
    executor: "local",
    fields: [makeField({ name: "epochs", type: "int", default: 5, min: 1, max: 100 })],
    mlflow: null,
    ...overrides,
  };
}

export function makeGpu(overrides: Partial<Gpu> & Pick<Gpu, "index">): Gpu {
  return {
    name: "Fake A100",
    memoryTotal: 40_960,
    memoryUsed: 0,
    utilization: 0,
    runId: null,
    outsideUse: false,
    ...overrides,
  };
}

export function testClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
}

export function renderWithProviders(
  ui: ReactElement,
  options: { client?: QueryClient; route?: string } = {},
) {
  const client = options.client ?? testClient();
  const result = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[options.route ?? "/"]}>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, client };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Replaces fetch for the API singleton; the handler sees each Request. */
export function mockFetch(handler: (request: Request) => Response | Promise<Response>) {
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) =>
    // openapi-fetch passes a Request; wrapping it again would consume its body.
    handler(input instanceof Request && !init ? input : new Request(input, init)),
  );
  vi.stubGlobal("fetch", fn);
  return fn;
}
