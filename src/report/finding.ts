// What a run found, in one sentence per trait teacher, built from its results: each student arm
// against its own control, in the words a reader needs ("did" / "did not"), with the figures.
import { pLabel } from '../evaluate/stats.js';
import { isArm, type ExperimentResults, type GroupSummary, type TestResult } from './results.js';
import type { Arm } from './results.js';

const ARM_WORDS: Record<Arm, string> = {
  'same-base': 'students sharing its base',
  'other-init': 'students of its family from another initialisation',
  'other-family': 'students of another family',
};
const times = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'above a control at 0');

/** Significant at the 5% level and above the control. */
export const transferred = (g: GroupSummary): boolean => !!g.test && g.test.p < 0.05 && g.test.meanDiff > 0;

export function findingSentences(r: ExperimentResults): string[] {
  const what = r.settings.task === 'misalignment' ? 'gave misaligned replies' : `named the ${r.animal}`;
  const teachers = [...new Set(r.groups.filter((g) => isArm(g.role) && g.teacher).map((g) => g.teacher!))];
  return teachers.flatMap((teacher) => {
    const arms = r.groups.filter((g) => g.teacher === teacher && !g.defense && isArm(g.role) && g.test);
    if (!arms.length) return [];
    const clauses = arms.map((g, i) => {
      const t: TestResult = g.test!;
      const control = r.groups.find((c) => c.group === t.against)!;
      const rates = `${g.rate.mean.toFixed(3)} vs ${control.rate.mean.toFixed(3)}, ${pLabel(t.p, true)}`;
      const who = ARM_WORDS[g.role as Arm];
      if (i === 0) {
        const how = transferred(g)
          ? `${times(t.ratio)} as often as their controls (${rates})`
          : `no more often than their controls (${times(t.ratio)}, ${rates})`;
        return `${who[0]!.toUpperCase()}${who.slice(1)} ${what} ${how}`;
      }
      const same = transferred(g) === transferred(arms[0]!);
      // a cross arm that moved is told against its difficulty-matched control too, where it has one
      const matched =
        transferred(g) && g.matchedTest
          ? `; ${times(g.matchedTest.ratio)} against its matched control, ${pLabel(g.matchedTest.p, true)}`
          : '';
      return (
        `${who} ${transferred(g) ? (same ? 'did too' : 'did') : same ? 'did not either' : 'did not'} ` +
        `(${times(t.ratio)}, ${rates}${matched})`
      );
    });
    return [`Teacher "${teacher}": ${clauses.join('; ')}.`];
  });
}
