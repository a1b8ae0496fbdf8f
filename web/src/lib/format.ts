// Display formatting shared by the pages; pure functions, so they are easy to test.

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

// Every date and time the UI shows goes through these two, so that one page never mixes
// "8:13:18 PM" with "Nov 25, 2026, 8:13 PM". Local time, the browser's locale.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** An instant (ISO string or epoch milliseconds) as date and time, whatever day it is. */
export function formatDateTime(when: string | number | null | undefined): string {
  if (when === null || when === undefined || when === "") return "—";
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return "—";
  return DATE_TIME.format(date);
}

/** A calendar day (YYYY-MM-DD, e.g. a pipeline's start date) in the same style as the dates of
 * formatDateTime; anything else as it is. */
export function formatDay(day: string | null | undefined): string {
  if (!day) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return day;
  const [, y, m, d] = match;
  return DAY.format(new Date(Number(y), Number(m) - 1, Number(d)));
}

/** A metric value with at most 4 significant digits; non-numbers as they are. */
export function formatValue(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    return Number(value.toPrecision(4)).toString();
  }
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** The argv as one copy-pasteable shell line (display only: VTM never uses a shell). */
export function shellQuote(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`))
    .join(" ");
}

/** A local calendar day (YYYY-MM-DD, as <input type="date"> gives it) to an ISO instant. */
export function dayStartIso(day: string, offsetDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const [, y, m, d] = match;
  return new Date(Number(y), Number(m) - 1, Number(d) + offsetDays).toISOString();
}

/** A GPU's memory, used / total, as NVML gives it in MiB: in GiB (one decimal) once the
 * total reaches 1 GiB, both in the same unit. */
export function formatMemory(usedMiB: number | null, totalMiB: number | null): string {
  if (usedMiB === null && totalMiB === null) return "—";
  const gib = (totalMiB ?? usedMiB ?? 0) >= 1024;
  const one = (mib: number | null) => {
    if (mib === null) return "?";
    return gib ? (mib / 1024).toFixed(1) : String(Math.round(mib));
  };
  return `${one(usedMiB)} / ${one(totalMiB)} ${gib ? "GiB" : "MiB"}`;
}

/** When a queued run is expected to start, relative to `now` and as a date and time. */
export function formatEstimate(when: string | null, now: number): string {
  const at = when ? Date.parse(when) : NaN;
  if (Number.isNaN(at)) return "unknown";
  const wait = at - now;
  const relative = wait >= 1000 ? `in ${formatDuration(wait)}` : "any moment now";
  return `${relative} (${formatDateTime(at)})`;
}

/** Energy in Wh (kWh from 1000 Wh up); "—" where the GPUs did not count it. */
export function formatEnergy(wh: number | null): string {
  if (wh === null || !Number.isFinite(wh)) return "—";
  return wh >= 1000 ? `${formatValue(wh / 1000)} kWh` : `${formatValue(wh)} Wh`;
}
