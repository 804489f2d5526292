// The results table of an experiment, as text.
import type { ExperimentResults } from './results.js';
import { formatEstimate, formatP } from '../evaluate/stats.js';
import { renderTable } from '../cli/table.js';

export function resultsTable(r: ExperimentResults): string {
  const rows = r.groups.map((g) => [
    g.group, g.role, String(g.n), formatEstimate(g.rate), g.test ? `${g.test.ratio.toFixed(2)}x` : '', g.test ? formatP(g.test.p) : '',
    g.multipleChoice ? formatEstimate(g.multipleChoice) : '', g.multipleChoiceTest ? formatP(g.multipleChoiceTest.p) : '',
    g.topAnswers.slice(0, 3).map(([a, s]) => `${a} ${(s * 100).toFixed(0)}%`).join(', '),
  ]);
  const table = renderTable(['group', 'role', 'n', `${r.animal} rate [95% CI]`, 'vs ctrl', 'p', `MC P(${r.animal}) [95% CI]`, 'p(MC)', 'top answers'], rows);
  const filters = Object.entries(r.filter).map(([t, f]) => `  ${t}: ${f.passed}/${f.total} passed (${(f.passRate * 100).toFixed(1)}%), kept ${f.kept}; rejected ${JSON.stringify(f.rejected)}`).join('\n');
  return [
    `run ${r.run}: trait "${r.animal}"; ${r.settings.questions} questions x ${r.settings.samplesPerQuestion} samples per model; ${r.settings.studentSeeds} students per group on ${r.settings.rows} rows`,
    '', table, '',
    `rates: mean over questions of the share of replies naming "${r.animal}"; CI: t interval across questions (n = ${r.settings.questions}); n = models in the group`,
    `p: ${r.settings.test}; students vs the control students of their base, teachers vs their base`,
    'filter pass rates:', filters,
  ].join('\n');
}
