// Value-axis labels for the uPlot charts. uPlot's default format rounds to 3 decimals, so a
// learning rate's axis at 0.0005 steps read "0.002, 0.002, 0.001, 0.001"; these labels carry as
// many decimals as the step between ticks needs, so that no two ticks read the same.

/** Decimals needed to write ``increment`` exactly (0.0005 → 4, 2.5 → 1, 20 → 0). */
export function decimalsFor(increment: number): number {
  if (!Number.isFinite(increment) || increment <= 0) return 0;
  for (let decimals = 0; decimals < 15; decimals += 1) {
    const scaled = increment * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return decimals;
  }
  return 15;
}

/** One label per tick, all with the decimals the step between ticks needs. */
export function tickLabels(splits: readonly number[], increment: number): string[] {
  const decimals = decimalsFor(increment);
  return splits.map((value) => {
    if (!Number.isFinite(value)) return "";
    const text = value.toFixed(decimals);
    // -0.000 is zero to a person.
    return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
  });
}
