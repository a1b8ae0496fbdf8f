import type { ChangeEvent } from "react";
import type { CatalogField } from "../api/types";
import type { FormValue } from "../lib/fields";
import { InlineCode } from "./InlineCode";

interface Props {
  field: CatalogField;
  value: FormValue;
  error: string | undefined;
  /** The number box holds text the browser cannot read (it reports such a box as empty). */
  unreadable?: boolean;
  /** `badInput`: a number box holds text the browser cannot read as a number. */
  onChange: (name: string, value: FormValue, badInput: boolean) => void;
}

/** One catalog field as the input its type calls for, with its help and its error beside it. */
export function FieldInput({ field, value, error, unreadable = false, onChange }: Props) {
  const id = `field-${field.name}`;
  const helpId = `${id}-help`;
  const errorId = `field-error-${field.name}`;
  const range = [
    field.min !== null ? `≥ ${field.min}` : null,
    field.max !== null ? `≤ ${field.max}` : null,
  ].filter(Boolean);
  const hasHelp = Boolean(field.help) || range.length > 0;
  const text = typeof value === "string" ? value : "";
  // An emptied number box is left out of the request, so the catalog's default applies: say so,
  // rather than let Start quietly use a value the form no longer shows.
  const number = field.type === "int" || field.type === "float";
  const usesDefault = number && field.default !== null && text.trim() === "" && !unreadable && !error;
  const hintId = `${id}-default`;
  const describedBy = [hasHelp ? helpId : null, usesDefault ? hintId : null, error ? errorId : null]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    name: field.name,
    "data-testid": id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy || undefined,
    required: field.required && field.default === null,
  };
  const changed = (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    onChange(field.name, e.target.value, e.target instanceof HTMLInputElement && e.target.validity.badInput);

  let input;
  if (field.type === "bool") {
    input = (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange(field.name, e.target.checked, false)}
      />
    );
  } else if (field.type === "choice") {
    input = (
      <select {...common} value={text} onChange={changed}>
        {field.default === null && <option value="">—</option>}
        {(field.choices ?? []).map((choice, index) => (
          <option key={String(choice)} value={String(index)}>
            {String(choice)}
          </option>
        ))}
      </select>
    );
  } else if (field.type === "int" || field.type === "float") {
    input = (
      <input
        {...common}
        type="number"
        inputMode={field.type === "int" ? "numeric" : "decimal"}
        step={field.type === "int" ? 1 : "any"}
        min={field.min ?? undefined}
        max={field.max ?? undefined}
        placeholder={field.default === null ? undefined : `default ${String(field.default)}`}
        value={text}
        onChange={changed}
      />
    );
  } else {
    const path = field.type === "path";
    input = (
      <input
        {...common}
        type="text"
        className={path ? "mono" : undefined}
        spellCheck={!path}
        autoComplete="off"
        value={text}
        onChange={changed}
      />
    );
  }

  return (
    <div className={`field field-${field.type}${error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>
        {field.label ?? field.name}
        {common.required && <span aria-hidden="true"> *</span>}
        <span className="field-flag mono">{field.flag}</span>
      </label>
      {input}
      {hasHelp && (
        <p className="field-help" id={helpId}>
          {field.help && <InlineCode text={field.help} />}
          {range.length > 0 && <span className="muted"> ({range.join(", ")})</span>}
        </p>
      )}
      {usesDefault && (
        <p className="field-hint" id={hintId} data-testid={`field-default-hint-${field.name}`}>
          empty: uses the default {String(field.default)}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId} data-testid={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
