/** Seeds by default: enough for a 95% interval (t with 4 degrees of freedom). */
export const COMPARE_DEFAULT_SEEDS = 5;

/** The seeds of a comparison: from `first` on, consecutive if it is an integer, else first, first-1, ... */
export function seedList(first: string, n: number): string[] {
  const base = /^\d+$/.test(first) ? Number(first) : null;
  return Array.from({ length: n }, (_, i) => (base !== null ? String(base + i) : i === 0 ? first : `${first}-${i}`));
}
