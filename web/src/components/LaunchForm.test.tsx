import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { Task } from "../api/types";
import { json, makeField, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { LaunchForm } from "./LaunchForm";

const task = makeTask({
  fields: [
    makeField({
      name: "epochs",
      type: "int",
      default: 5,
      min: 1,
      max: 100,
      label: "Epochs",
      help: "Full passes.",
    }),
    makeField({ name: "lr", type: "float", default: 0.001, min: 0, max: 10 }),
    makeField({ name: "augment", type: "bool", default: false }),
    makeField({ name: "optimizer", type: "choice", choices: ["adam", "sgd"], default: "adam" }),
    makeField({ name: "tag", type: "string", default: "base" }),
    makeField({ name: "data_dir", type: "path", required: true }),
  ],
});

function renderForm(initial?: Record<string, unknown>, of: Task = task, initialPriority?: number) {
  const onLaunched = vi.fn();
  renderWithProviders(
    <LaunchForm task={of} initial={initial} initialPriority={initialPriority} onLaunched={onLaunched} />,
  );
  return { onLaunched, user: userEvent.setup() };
}

const urgentTask = makeTask({ id: "two-gpus", gpus: 2, priority: 3 });

async function sentBody(fetch: ReturnType<typeof mockFetch>, call = 0) {
  return (await (fetch.mock.calls[call]![0] as Request).json()) as Record<string, unknown>;
}

describe("LaunchForm", () => {
  it("builds an input per field type with the catalog's defaults", () => {
    renderForm();
    const epochs = screen.getByTestId("field-epochs");
    expect(epochs).toHaveAttribute("type", "number");
    expect(epochs).toHaveAttribute("min", "1");
    expect(epochs).toHaveAttribute("max", "100");
    expect(epochs).toHaveValue(5);
    expect(screen.getByLabelText(/Epochs/)).toBe(epochs);
    expect(screen.getByTestId("field-lr")).toHaveAttribute("step", "any");
    expect(screen.getByTestId("field-augment")).toHaveAttribute("type", "checkbox");
    expect(screen.getByTestId("field-augment")).not.toBeChecked();
    const optimizer = screen.getByTestId("field-optimizer");
    expect(optimizer.tagName).toBe("SELECT");
    expect(screen.getByRole("option", { name: "adam" })).toHaveProperty("selected", true);
    expect(screen.getByTestId("field-tag")).toHaveValue("base");
    expect(screen.getByTestId("field-data_dir")).toHaveAttribute("type", "text");
    expect(screen.getByTestId("field-data_dir")).toBeRequired();
  });

  it("checks min/max and required fields before sending anything", async () => {
    const fetch = mockFetch(() => json({}, 500));
    const { user } = renderForm();
    await user.clear(screen.getByTestId("field-epochs"));
    await user.type(screen.getByTestId("field-epochs"), "0");
    await user.click(screen.getByTestId("launch-submit"));
    expect(screen.getByTestId("field-error-epochs")).toHaveTextContent("must be at least 1 (got 0)");
    expect(screen.getByTestId("field-error-data_dir")).toHaveTextContent("required");
    expect(screen.getByTestId("field-epochs")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("field-epochs").getAttribute("aria-describedby")).toContain(
      "field-error-epochs",
    );
    expect(screen.getByTestId("field-epochs")).toHaveFocus();
    expect(fetch).not.toHaveBeenCalled();
    // Editing a field clears its message.
    await user.type(screen.getByTestId("field-epochs"), "5");
    expect(screen.queryByTestId("field-error-epochs")).toBeNull();
  });

  it("shows the server's 422 messages beside the fields they name", async () => {
    mockFetch(() =>
      json(
        {
          error: {
            code: "validation_failed",
            message: "refused",
            fields: [
              { field: "lr", message: "must be at most 1 for sgd" },
              { field: "fields.data_dir", message: "no such folder" },
              { field: "gpus", message: "no GPU is free" },
            ],
          },
        },
        422,
      ),
    );
    const { user, onLaunched } = renderForm();
    await user.type(screen.getByTestId("field-data_dir"), "/nope");
    await user.click(screen.getByTestId("launch-submit"));
    expect(await screen.findByTestId("field-error-lr")).toHaveTextContent("must be at most 1 for sgd");
    expect(screen.getByTestId("field-error-data_dir")).toHaveTextContent("no such folder");
    expect(screen.queryByTestId("field-error-epochs")).toBeNull();
    expect(screen.getByTestId("launch-error")).toHaveTextContent("gpus: no GPU is free");
    expect(onLaunched).not.toHaveBeenCalled();
  });

  it("sends typed values and hands back the new run", async () => {
    const run = makeRun({ id: "20261126-130000-bbbbbb" });
    const fetch = mockFetch(() => json(run, 201));
    const { user, onLaunched } = renderForm();
    await user.type(screen.getByTestId("field-data_dir"), "/data");
    await user.click(screen.getByTestId("field-augment"));
    await user.selectOptions(screen.getByTestId("field-optimizer"), "sgd");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledWith(run));
    const request = fetch.mock.calls[0]![0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/runs/start");
    expect(await request.json()).toEqual({
      taskId: "digits-cnn",
      fields: { epochs: 5, lr: 0.001, augment: true, optimizer: "sgd", tag: "base", data_dir: "/data" },
    });
  });

  it("says beside an emptied number field that Start will use its default", async () => {
    const run = makeRun({ id: "20261126-130000-cccccc" });
    const fetch = mockFetch(() => json(run, 201));
    const { user, onLaunched } = renderForm();
    const lr = screen.getByTestId("field-lr");
    expect(screen.queryByTestId("field-default-hint-lr")).toBeNull();
    await user.clear(lr);
    const hint = screen.getByTestId("field-default-hint-lr");
    expect(hint).toHaveTextContent("empty: uses the default 0.001");
    expect(lr.getAttribute("aria-describedby")).toContain(hint.id);
    await user.type(lr, "0.5");
    expect(screen.queryByTestId("field-default-hint-lr")).toBeNull();

    await user.clear(lr);
    await user.type(screen.getByTestId("field-data_dir"), "/data");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledWith(run));
    // As the hint said: left out, so the server applies the catalog's default.
    const body = (await (fetch.mock.calls[0]![0] as Request).json()) as { fields: Record<string, unknown> };
    expect(body.fields).not.toHaveProperty("lr");
  });

  it("opens pre-filled from an earlier run (re-run with changes)", () => {
    renderForm({ epochs: 42, augment: true, optimizer: "sgd", tag: "again", data_dir: "/d" });
    expect(screen.getByTestId("field-epochs")).toHaveValue(42);
    expect(screen.getByTestId("field-augment")).toBeChecked();
    expect(screen.getByTestId("field-optimizer")).toHaveValue("1");
    expect(screen.getByTestId("field-tag")).toHaveValue("again");
  });

  it("offers the task's priority and sends another one only when it was changed", async () => {
    const run = makeRun({ id: "20261126-130000-dddddd", taskId: "two-gpus" });
    const fetch = mockFetch(() => json(run, 201));
    const { user, onLaunched } = renderForm(undefined, urgentTask);
    const priority = screen.getByTestId("launch-priority");
    expect(priority).toHaveValue(3);
    expect(screen.getByLabelText("Priority")).toBe(priority);
    expect(priority).toHaveAttribute("min", "-1000");
    expect(priority).toHaveAttribute("max", "1000");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledTimes(1));
    expect(await sentBody(fetch)).not.toHaveProperty("priority"); // the task's own: the server's default

    await user.clear(priority);
    await user.type(priority, "-7");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledTimes(2));
    expect(await sentBody(fetch, 1)).toEqual({ taskId: "two-gpus", fields: { epochs: 5 }, priority: -7 });
  });

  it("offers where to train only when a Ray cluster is configured, and sends a change", async () => {
    const run = makeRun({ id: "20261126-130000-eeeeee", taskId: "two-gpus" });
    const fetch = mockFetch(() => json(run, 201));
    const onLaunched = vi.fn();
    const { unmount } = renderWithProviders(<LaunchForm task={urgentTask} onLaunched={onLaunched} />);
    expect(screen.queryByTestId("launch-executor")).toBeNull(); // local only: nothing to choose
    unmount();

    renderWithProviders(
      <LaunchForm task={urgentTask} executors={["local", "ray"]} onLaunched={onLaunched} />,
    );
    const user = userEvent.setup();
    const where = screen.getByTestId("launch-executor");
    expect(where).toHaveValue("local");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledTimes(1));
    expect(await sentBody(fetch)).not.toHaveProperty("executor"); // the task's own

    await user.selectOptions(where, "ray");
    await user.click(screen.getByTestId("launch-submit"));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledTimes(2));
    expect(await sentBody(fetch, 1)).toEqual({ taskId: "two-gpus", fields: { epochs: 5 }, executor: "ray" });
  });

  it("refuses a priority out of range before sending, and shows the server's word on it", async () => {
    const fetch = mockFetch(() =>
      json(
        {
          error: {
            code: "validation_failed",
            message: "refused",
            fields: [{ field: "priority", message: "must be at most 1000" }],
          },
        },
        422,
      ),
    );
    const { user } = renderForm(undefined, urgentTask);
    const priority = screen.getByTestId("launch-priority");
    await user.clear(priority);
    await user.type(priority, "1001");
    await user.click(screen.getByTestId("launch-submit"));
    expect(screen.getByTestId("launch-priority-error")).toHaveTextContent("must be at most 1000 (got 1001)");
    expect(priority).toHaveFocus();
    expect(priority).toHaveAttribute("aria-invalid", "true");
    expect(fetch).not.toHaveBeenCalled();

    await user.clear(priority);
    await user.type(priority, "999");
    expect(screen.queryByTestId("launch-priority-error")).toBeNull();
    await user.click(screen.getByTestId("launch-submit"));
    expect(await screen.findByTestId("launch-priority-error")).toHaveTextContent("must be at most 1000");
    expect(screen.getByTestId("launch-error")).toHaveTextContent("The server refused some values.");

    await user.click(screen.getByTestId("launch-reset"));
    expect(priority).toHaveValue(3);
    expect(screen.queryByTestId("launch-priority-error")).toBeNull();
  });

  it("re-runs with the earlier run's priority", () => {
    renderForm({ epochs: 2 }, urgentTask, 8);
    expect(screen.getByTestId("launch-priority")).toHaveValue(8);
  });
});
