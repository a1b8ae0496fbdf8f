import { useState } from "react";
import type { RunRecord } from "../api/types";
import { formatValue, shellQuote } from "../lib/format";

/** The resolved fields and the exact argv the trainer was started with. */
export function RunFields({ run }: { run: RunRecord }) {
  const [copied, setCopied] = useState(false);
  const command = shellQuote(run.command);
  const copy = () => {
    void navigator.clipboard?.writeText(command).then(() => setCopied(true));
  };
  return (
    <section aria-labelledby="fields-heading" className="card">
      <h2 id="fields-heading">Fields</h2>
      <table className="kv" data-testid="run-fields">
        <tbody>
          {Object.entries(run.fields).map(([name, value]) => (
            <tr key={name}>
              <th scope="row" className="mono">
                {name}
              </th>
              <td className="mono">{formatValue(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Command</h3>
      <pre className="command mono" data-testid="run-command">
        {command}
      </pre>
      <button type="button" className="button small" onClick={copy}>
        {copied ? "Copied" : "Copy command"}
      </button>
    </section>
  );
}
