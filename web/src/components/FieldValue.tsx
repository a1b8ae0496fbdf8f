import { formatValue } from "../lib/format";

/** A run's field value: "—" when the run was started without the field, and an empty
 * string as "" (a blank cell would read as missing). */
export function FieldValue({ fields, name }: { fields: Record<string, unknown>; name: string }) {
  if (!Object.hasOwn(fields, name)) return <span className="muted">—</span>;
  const value = fields[name];
  if (value === "") return <span className="muted">""</span>;
  return <>{formatValue(value)}</>;
}
