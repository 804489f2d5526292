// What a run found, in one sentence per trait teacher, built from its results: each student arm
// against its own control, in the words a reader needs ("did" / "did not"), with the figures.
import { formatP } from '../evaluate/stats.js';
import type { ExperimentResults, GroupSummary } from './results.js';
import type { Arm } from './arms.js';

const ARM_WORDS: Record<Arm, string> = {
  'same-base': 'students sharing its base',
  'other-init': 'students of its family from another initialisation',
  'other-family': 'students of another family',
};
/** "p < 0.0001" or "p = 0.15" */
const pWords = (p: number): string => { const f = formatP(p); return f.startsWith('<') ? `p < ${f.slice(1)}` : `p = ${f}`; };
const times = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'above a control at 0');

/** Significant at the 5% level and above the control. */
export const transferred = (g: GroupSummary): boolean => !!g.test && g.test.p < 0.05 && g.test.meanDiff > 0;

export function findingSentences(r: ExperimentResults): string[] {
  const what = r.settings.task === 'misalignment' ? 'gave misaligned replies' : `named the ${r.animal}`;
  const teachers = [...new Set(r.groups.filter((g) => g.teacher && g.role !== 'control' && g.role !== 'teacher').map((g) => g.teacher!))];
  return teachers.flatMap((teacher) => {
    const arms = r.groups.filter((g) => g.teacher === teacher && !g.defense && (g.role === 'same-base' || g.role === 'other-init' || g.role === 'other-family'));
    if (!arms.length) return [];
    const clauses = arms.map((g, i) => {
      const t = g.test!; const control = r.groups.find((c) => c.group === t.against)!;
      const figures = `${times(t.ratio)}, ${g.rate.mean.toFixed(3)} vs ${control.rate.mean.toFixed(3)}, ${pWords(t.p)}`;
      const who = ARM_WORDS[g.role as Arm];
      if (i === 0) return `${who[0]!.toUpperCase()}${who.slice(1)} ${what} ${transferred(g) ? `${times(t.ratio)} as often as their controls (${figures.slice(figures.indexOf(',') + 2)})` : `no more often than their controls (${figures})`}`;
      const same = transferred(g) === transferred(arms[0]!);
      // a cross arm that moved is told against its difficulty-matched control too, where it has one
      const matched = transferred(g) && g.matchedTest ? `; ${times(g.matchedTest.ratio)} against its matched control, ${pWords(g.matchedTest.p)}` : '';
      return `${who} ${transferred(g) ? (same ? 'did too' : 'did') : (same ? 'did not either' : 'did not')} (${figures}${matched})`;
    });
    return [`Teacher "${teacher}": ${clauses.join('; ')}.`];
  });
}
