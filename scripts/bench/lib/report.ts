/** One line of the results table, and the table itself. */

export interface Figure {
  /** Which benchmark: join, capacity, signalling, page, soak. */
  bench: string;
  figure: string;
  unit: string;
  ours: number | null;
  bare: number | null;
  /** ours / bare, when both exist. */
  ratio: number | null;
  /** The target in words, e.g. "p95 < 300 ms" or "ratio <= 1.2". */
  target: string;
  /** Whether the target is met; null when the figure has no target. */
  met: boolean | null;
  note?: string;
}

export function figure(f: Omit<Figure, 'ratio' | 'met'> & { ratio?: number | null; met?: boolean | null }): Figure {
  const ratio = f.ratio !== undefined
    ? f.ratio
    : f.ours !== null && f.bare !== null && Number.isFinite(f.ours) && Number.isFinite(f.bare) && f.bare !== 0 ? f.ours / f.bare : null;
  return { ...f, ratio, met: f.met ?? null };
}

function fmt(n: number | null, digits: number): string {
  if (n === null || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const d = abs >= 1000 ? 0 : abs >= 100 ? Math.min(digits, 1) : digits;
  return n.toFixed(d);
}

export function table(figures: Figure[]): string {
  const head = ['bench', 'figure', 'unit', 'ours', 'bare', 'ours/bare', 'target', 'met?'];
  const rows = figures.map((f) => [
    f.bench, f.figure, f.unit, fmt(f.ours, 2), fmt(f.bare, 2), f.ratio === null ? '-' : f.ratio.toFixed(2), f.target || '-',
    f.met === null ? '-' : f.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
