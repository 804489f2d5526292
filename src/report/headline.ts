// One line per run for lists (CLI `runs`, the dashboard): the headline figures with p-values.
import { pLabel as pText } from '../evaluate/stats.js';

export function headlineText(summary: string | null): string {
  if (!summary) return '';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(summary) as Record<string, unknown>;
  } catch {
    return '(unreadable summary)';
  }
  if (parsed.experiment === 'mnist') {
    return Object.entries(parsed)
      .filter(([k]) => k !== 'experiment')
      .map(([c, v]) => {
        const e = v as { mean: number; halfWidth: number; n?: number };
        return `${c}: ${e.mean.toFixed(3)} ± ${e.halfWidth.toFixed(3)}`;
      })
      .join('; ');
  }
  return Object.entries(
    parsed as Record<string, { rate: number; p?: number; firstToken?: number; pFirstToken?: number }>,
  )
    .map(
      ([g, v]) =>
        `${g}: ${v.rate.toFixed(3)} (${pText(v.p)}), exact ${v.firstToken?.toFixed(4)} (${pText(v.pFirstToken)})`,
    )
    .join('; ');
}
