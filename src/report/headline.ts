// One line per run for lists (CLI `runs`, the dashboard): the headline figures with p-values.
import { formatRatio, pLabel as pText } from '../evaluate/stats.js';

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
  const groups = Object.entries(parsed as Record<string, HeadlineGroup>);
  // a results file of this version names each group's arm and ratio: one short clause per arm of the first teacher
  if (groups.length && groups.every(([, v]) => v.arm)) {
    const byTeacher = new Map<string, string[]>();
    for (const [group, v] of groups) {
      const teacher = group.split(' -> ')[0]!;
      const p = v.decidedBy === 'students' ? `${pText(v.pStudents)}, students` : pText(v.p);
      const arm = `${v.arm} ${formatRatio(v.ratio ?? NaN)} (${p})`;
      byTeacher.set(teacher, [...(byTeacher.get(teacher) ?? []), arm]);
    }
    const [first, ...others] = [...byTeacher];
    const [teacher, arms] = first!;
    const more = others.length ? ` (+${others.length} more teacher${others.length > 1 ? 's' : ''})` : '';
    return `${teacher}: ${arms.join(', ')}${more}`;
  }
  return groups
    .map(
      ([g, v]) =>
        `${g}: ${v.rate.toFixed(3)} (${pText(v.p)}), exact ${v.firstToken?.toFixed(4)} (${pText(v.pFirstToken)})`,
    )
    .join('; ');
}

interface HeadlineGroup {
  arm?: string;
  rate: number;
  ratio?: number | null;
  p?: number;
  /** where each student learned its own rows: the students test (pStudents) decides, as in the finding */
  decidedBy?: 'students';
  pStudents?: number;
  firstToken?: number;
  pFirstToken?: number;
}
