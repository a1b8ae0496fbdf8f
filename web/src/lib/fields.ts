// The launch form's values, and the client-side checks that mirror the server's
// (src/vtm/catalog/fields.py): the same rules and, where it helps, the same words. The server
// still decides; its 422 messages replace these when they disagree.
import type { CatalogField, Scalar } from "../api/types";

/** What an input holds: text for numbers, strings and paths, a checkbox state, a choice index. */
export type FormValue = string | boolean;
export type FormValues = Record<string, FormValue>;

export interface CheckedFields {
  /** Typed values to send; fields left empty are omitted so the catalog's default applies. */
  values: Record<string, Scalar>;
  /** One message per field that would be refused. */
  errors: Record<string, string>;
}

const INT = /^[+-]?[0-9]+$/;

function choiceIndex(field: CatalogField, value: unknown): string {
  const index = (field.choices ?? []).findIndex((c) => c === value || String(c) === String(value));
  return index >= 0 ? String(index) : "";
}

/** Form values from an earlier run's fields (re-run) or else the catalog's defaults. */
export function initialFormValues(
  fields: readonly CatalogField[],
  from?: Record<string, unknown>,
): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const given = from && field.name in from ? from[field.name] : undefined;
    const value = given ?? field.default;
    if (field.type === "bool") values[field.name] = value === true;
    else if (field.type === "choice") values[field.name] = choiceIndex(field, value);
    else values[field.name] = value === null || value === undefined ? "" : String(value);
  }
  return values;
}

function checkRange(field: CatalogField, n: number): string | null {
  if (field.min !== null && n < field.min) return `must be at least ${field.min} (got ${n})`;
  if (field.max !== null && n > field.max) return `must be at most ${field.max} (got ${n})`;
  return null;
}

type One = { value: Scalar } | { error: string } | { empty: true };

function checkOne(field: CatalogField, raw: FormValue): One {
  if (field.type === "bool") return { value: raw === true };
  const text = typeof raw === "string" ? raw : "";
  if (field.type === "choice") {
    const choice = text === "" ? undefined : field.choices?.[Number(text)];
    return choice === undefined ? { empty: true } : { value: choice };
  }
  if (field.type === "string" || field.type === "path") {
    // An emptied box with no default means "not set"; otherwise "" is what the person wants.
    if (text === "" && field.default === null) return { empty: true };
    if (text.includes("\0")) return { error: "must not contain a NUL character" };
    if (field.type === "path" && /[\r\n]/.test(text)) {
      return { error: "a path must not contain a line break" };
    }
    return { value: text };
  }
  const trimmed = text.trim();
  if (trimmed === "") return { empty: true };
  if (field.type === "int") {
    if (!INT.test(trimmed)) return { error: `expected an integer, got '${trimmed}'` };
    const n = Number(trimmed);
    const range = checkRange(field, n);
    if (range) return { error: range };
    // Beyond 2^53 a JS number would lose digits; the server also accepts the decimal string.
    return { value: Number.isSafeInteger(n) ? n : trimmed };
  }
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return { error: `expected a finite number, got '${trimmed}'` };
  const range = checkRange(field, n);
  return range ? { error: range } : { value: n };
}

/**
 * Checks the form against the task's fields. `badInput` names number inputs whose text the
 * browser could not read as a number (it reports those as empty).
 */
export function checkFields(
  fields: readonly CatalogField[],
  form: FormValues,
  badInput: ReadonlySet<string> = new Set(),
): CheckedFields {
  const result: CheckedFields = { values: {}, errors: {} };
  for (const field of fields) {
    if (badInput.has(field.name)) {
      result.errors[field.name] = "expected a number";
      continue;
    }
    const one = checkOne(field, form[field.name] ?? "");
    if ("error" in one) result.errors[field.name] = one.error;
    else if ("value" in one) result.values[field.name] = one.value;
    else if (field.required && field.default === null) {
      result.errors[field.name] = "required, and this task sets no default";
    }
  }
  return result;
}

/** The catalog field a server error names: "fields.epochs" (request shape) or "epochs". */
export function fieldOfServerError(name: string): string {
  return name.replace(/^(fields|extraFields)\./, "");
}
