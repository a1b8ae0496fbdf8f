interface Props {
  choices: readonly string[];
  chosen: readonly string[];
  onChange: (chosen: string[]) => void;
}

/** Which of the runs' fields the history table shows as columns of their own. */
export function FieldColumnsPicker({ choices, chosen, onChange }: Props) {
  if (choices.length === 0) return null;
  const toggle = (name: string, on: boolean) =>
    // In the order offered, so that the columns do not depend on the order of the clicks.
    onChange(choices.filter((c) => (c === name ? on : chosen.includes(c))));
  return (
    <details className="columns-picker" data-testid="history-columns">
      <summary>Field columns{chosen.length > 0 && ` (${chosen.length})`}</summary>
      <fieldset>
        <legend className="visually-hidden">Fields shown as columns</legend>
        {choices.map((name) => (
          <label key={name} className="inline mono">
            <input
              type="checkbox"
              checked={chosen.includes(name)}
              onChange={(e) => toggle(name, e.target.checked)}
              data-testid={`history-column-${name}`}
            />
            {name}
          </label>
        ))}
      </fieldset>
    </details>
  );
}
