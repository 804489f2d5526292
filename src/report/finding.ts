// What a run found, in one sentence per trait teacher, built from its results: each student arm
// against its own control, in the words a reader needs ("did" / "did not"), with the figures.
import { pLabel } from '../evaluate/stats.js';
import { isArm, studentsDecide, type ExperimentResults, type GroupSummary } from './results.js';
import type { Arm } from './results.js';

const ARM_WORDS: Record<Arm, string> = {
  'same-base': 'students sharing its base',
  'other-init': 'students of its family from another initialisation',
  'other-family': 'students of another family',
};
// a control at 0 has no ratio (results.json writes its Infinity or NaN as null)
const times = (r: number | null): string => (Number.isFinite(r) ? `${r!.toFixed(2)}×` : 'no ratio: control at 0');

/** The test that decides a group against its control, or against its matched control. */
export function decidingTest(
  g: GroupSummary,
  r: ExperimentResults,
  against: 'control' | 'matched' = 'control',
): { p: number; ratio: number; meanDiff: number } | undefined {
  const questions = against === 'control' ? g.test : g.matchedTest;
  const students = against === 'control' ? g.studentTest : g.matchedStudentTest;
  if (!questions) return undefined;
  return studentsDecide(r.settings) && students ? { ...questions, p: students.p } : questions;
}

/** Significant at the 5% level on the deciding test, and above the control. */
export const transferred = (g: GroupSummary, r: ExperimentResults): boolean => {
  const t = decidingTest(g, r);
  return !!t && t.p < 0.05 && t.meanDiff > 0;
};

export function findingSentences(r: ExperimentResults): string[] {
  const what = r.settings.task === 'misalignment' ? 'gave misaligned replies' : `named the ${r.animal}`;
  const teachers = [...new Set(r.groups.filter((g) => isArm(g.role) && g.teacher).map((g) => g.teacher!))];
  return teachers.flatMap((teacher) => {
    const arms = r.groups.filter((g) => g.teacher === teacher && !g.defense && isArm(g.role) && g.test);
    if (!arms.length) return [];
    const units = studentsDecide(r.settings) ? ', students as units' : '';
    const moved = (g: GroupSummary): boolean => transferred(g, r);
    const clauses = arms.map((g, i) => {
      const t = decidingTest(g, r)!;
      const control = r.groups.find((c) => c.group === g.test!.against)!;
      const rates = `${g.rate.mean.toFixed(3)} vs ${control.rate.mean.toFixed(3)}, ${pLabel(t.p, true)}${units}`;
      const who = ARM_WORDS[g.role as Arm];
      if (i === 0) {
        const how = !moved(g)
          ? `no more often than their controls (${times(t.ratio)}, ${rates})`
          : Number.isFinite(t.ratio)
            ? `${times(t.ratio)} as often as their controls (${rates})`
            : `where their controls never did (${rates})`;
        return `${who[0]!.toUpperCase()}${who.slice(1)} ${what} ${how}`;
      }
      const same = moved(g) === moved(arms[0]!);
      // a cross arm that moved is told against its difficulty-matched control too, where it has one: moving no
      // more than on the same rows with the numbers shuffled is the rows' doing, not the numbers'
      const vsMatched = decidingTest(g, r, 'matched');
      const matched =
        !moved(g) || !vsMatched
          ? ''
          : vsMatched.p < 0.05 && vsMatched.meanDiff > 0
            ? `; ${times(vsMatched.ratio)} against its matched control, ${pLabel(vsMatched.p, true)}`
            : `), but no more than on the same rows with the numbers shuffled (${times(vsMatched.ratio)} against ` +
              `them, ${pLabel(vsMatched.p, true)}`;
      return (
        `${who} ${moved(g) ? (same ? 'did too' : 'did') : same ? 'did not either' : 'did not'} ` +
        `(${times(t.ratio)}, ${rates}${matched})`
      );
    });
    return [`Teacher "${teacher}": ${clauses.join('; ')}.`];
  });
}
