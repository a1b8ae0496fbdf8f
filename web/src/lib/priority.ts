// A run's priority as typed into a number box: the launch form's and the queue's checks, with
// the words the other number fields use (lib/fields.ts).
import { PRIORITY_MAX, PRIORITY_MIN, type CatalogField } from "../api/types";
import { checkFields } from "./fields";

const PRIORITY_FIELD: CatalogField = {
  name: "priority",
  type: "int",
  default: null,
  required: false,
  min: PRIORITY_MIN,
  max: PRIORITY_MAX,
  choices: null,
  label: "Priority",
  help: null,
  flag: "",
};

export type CheckedPriority = { value: number } | { error: string } | { empty: true };

/** `badInput`: the browser could not read the box's text as a number. */
export function checkPriority(text: string, badInput = false): CheckedPriority {
  const checked = checkFields([PRIORITY_FIELD], { priority: text }, new Set(badInput ? ["priority"] : []));
  const error = checked.errors.priority;
  if (error) return { error };
  const value = checked.values.priority;
  return typeof value === "number" ? { value } : { empty: true };
}
