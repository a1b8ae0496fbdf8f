import { describe, expect, it } from "vitest";
import { makeField } from "../test/fixtures";
import { checkFields, fieldOfServerError, initialFormValues } from "./fields";

const epochs = makeField({ name: "epochs", type: "int", default: 5, min: 1, max: 100 });
const lr = makeField({ name: "lr", type: "float", default: 0.001, min: 0, max: 10 });
const augment = makeField({ name: "augment", type: "bool", default: false });
const size = makeField({ name: "size", type: "choice", choices: [16, 32, "big"], default: 32 });
const data = makeField({ name: "data", type: "path", required: true });
const note = makeField({ name: "note", type: "string" });
const fields = [epochs, lr, augment, size, data, note];

describe("form values", () => {
  it("start from the catalog's defaults", () => {
    expect(initialFormValues(fields)).toEqual({
      epochs: "5",
      lr: "0.001",
      augment: false,
      size: "1",
      data: "",
      note: "",
    });
  });

  it("start from an earlier run's fields for a re-run", () => {
    const values = initialFormValues(fields, { epochs: 12, augment: true, size: "big", data: "/d" });
    expect(values).toMatchObject({ epochs: "12", augment: true, size: "2", data: "/d", lr: "0.001" });
  });
});

describe("client-side checks mirror the catalog", () => {
  const base = { ...initialFormValues(fields), data: "/data" };

  it("type the values", () => {
    const { values, errors } = checkFields(fields, { ...base, augment: true, size: "2", note: "hi" });
    expect(errors).toEqual({});
    expect(values).toEqual({ epochs: 5, lr: 0.001, augment: true, size: "big", data: "/data", note: "hi" });
  });

  it("refuse values outside min and max", () => {
    const { errors } = checkFields(fields, { ...base, epochs: "0", lr: "11" });
    expect(errors).toEqual({ epochs: "must be at least 1 (got 0)", lr: "must be at most 10 (got 11)" });
  });

  it("refuse a non-integer int and a non-finite float", () => {
    const { errors } = checkFields(fields, { ...base, epochs: "2.5", lr: "Infinity" });
    expect(errors.epochs).toBe("expected an integer, got '2.5'");
    expect(errors.lr).toBe("expected a finite number, got 'Infinity'");
  });

  it("require a required field without a default, and leave empty optional ones out", () => {
    const { values, errors } = checkFields(fields, { ...base, data: "", epochs: "" });
    expect(errors).toEqual({ data: "required, and this task sets no default" });
    expect(values).not.toHaveProperty("epochs"); // the default applies on the server
    expect(values).not.toHaveProperty("note");
  });

  it("flag a number box the browser could not read", () => {
    expect(checkFields(fields, base, new Set(["lr"])).errors).toEqual({ lr: "expected a number" });
  });

  it("map server field names onto catalog fields", () => {
    expect(fieldOfServerError("fields.epochs")).toBe("epochs");
    expect(fieldOfServerError("extraFields.augment")).toBe("augment");
    expect(fieldOfServerError("lr")).toBe("lr");
  });
});
