import { describe, expect, it } from "vitest";
import { makeField, makeTask } from "../test/fixtures";
import {
  fieldColumnChoices,
  readHistoryParams,
  readList,
  writeHistoryParams,
  writeList,
} from "./historyParams";

describe("History's address", () => {
  it("keeps lists such as the compared runs and the field columns", () => {
    const params = writeList(new URLSearchParams("task=digits-cnn"), "fields", ["lr", "epochs"]);
    expect(params.toString()).toBe("task=digits-cnn&fields=lr%2Cepochs");
    expect(readList(params, "fields")).toEqual(["lr", "epochs"]);
    expect(readList(new URLSearchParams("compare=a,,b,a"), "compare")).toEqual(["a", "b"]);
    expect(writeList(params, "fields", []).toString()).toBe("task=digits-cnn");
    // The filters round-trip beside them.
    expect(readHistoryParams(params).taskId).toBe("digits-cnn");
    expect(writeHistoryParams(readHistoryParams(params)).toString()).toBe("task=digits-cnn");
  });

  it("offers the filtered task's fields as columns, or every task's", () => {
    const cnn = makeTask({
      id: "digits-cnn",
      fields: [makeField({ name: "epochs", type: "int" }), makeField({ name: "lr", type: "float" })],
    });
    const seg = makeTask({
      id: "shapes",
      fields: [makeField({ name: "epochs", type: "int" }), makeField({ name: "image_size", type: "int" })],
    });
    expect(fieldColumnChoices([cnn, seg], "digits-cnn", [])).toEqual(["epochs", "lr"]);
    expect(fieldColumnChoices([cnn, seg], "", [])).toEqual(["epochs", "lr", "image_size"]);
    // A chosen column the catalog no longer names can still be unticked.
    expect(fieldColumnChoices([cnn], "digits-cnn", ["gone"])).toEqual(["epochs", "lr", "gone"]);
  });
});
