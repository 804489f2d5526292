// The results table of an experiment, as text.
import { metricWording, type ExperimentResults, type GroupSummary } from './results.js';
import { formatEstimate, formatP, formatRatio, formatRatioCI } from '../evaluate/stats.js';
import { renderTable } from '../util/table.js';
import { findingSentences } from './finding.js';
import { generationsTable } from './generations.js';

export function resultsTable(r: ExperimentResults): string {
  return [
    ...resultsHeader(r),
    ...(r.defenses?.length ? ['', defensesTable(r)] : []),
    ...(r.generations?.length ? ['', generationsTable(r)] : []),
  ].join('\n');
}

/** Rows of the defenses table (also used by the HTML report). */
export function defenseRows(r: ExperimentResults): string[][] {
  return (r.defenses ?? []).map((d) => [
    d.defense,
    d.group,
    formatEstimate(d.undefendedExcess, 4),
    formatEstimate(d.excess, 4),
    Number.isFinite(d.remaining) ? `${(d.remaining * 100).toFixed(0)}%` : 'n/a',
    formatP(d.pReduced),
    formatP(d.pVsControl),
    formatP(d.pStudentsVsControl),
    d.note ?? '',
  ]);
}
export const DEFENSE_HEADER = [
  'defense',
  'group',
  'excess without [95% CI]',
  'excess with [95% CI]',
  'remaining',
  'p (reduced)',
  'p (vs control)',
  'p students (vs control)',
  'what it did',
];

export function defensesTable(r: ExperimentResults): string {
  return [
    `defenses (exact P(${r.animal}) minus the control students', per question; n = questions; p (reduced): ` +
      `one-sided paired sign-flip test that the defense lowered the excess):`,
    renderTable(DEFENSE_HEADER, defenseRows(r)),
  ].join('\n');
}

/** What each student role is, for the legends of the table and the report. */
export const ROLE_LEGEND =
  "same-base = the teacher's own base; other-init = its family (tokenizer, architecture) from another " +
  'initialisation; ' +
  "other-family = another tokenizer or architecture; matched-control = a cross arm's students on the teacher's " +
  "rows with the numbers shuffled; generation = a generation chain's students after the first (see generations)";

/**
 * A group's figures as table cells: the rate and its test against the control, the exact metric and its test (with
 * its ratio where `exactRatio`), the students' test.
 */
export const testCells = (g: GroupSummary, exactRatio: boolean): string[] => [
  formatEstimate(g.rate),
  formatRatioCI(g.test),
  formatP(g.test?.p),
  formatEstimate(g.firstToken, 4),
  ...(exactRatio ? [formatRatio(g.firstTokenTest?.ratio)] : []),
  formatP(g.firstTokenTest?.p),
  formatP(g.studentTest?.p),
];

/** A cross arm against its matched control: the rate ratio, the question-level test, the students test. */
export const matchedCells = (g: GroupSummary): string[] => [
  formatRatio(g.matchedTest?.ratio),
  formatP(g.matchedTest?.p),
  formatP(g.matchedStudentTest?.p),
];

function resultsHeader(r: ExperimentResults): string[] {
  const rows = r.groups.map((g) => [
    g.group,
    g.role,
    String(g.n),
    ...testCells(g, true),
    ...matchedCells(g),
    g.multipleChoice ? formatEstimate(g.multipleChoice) : '',
    g.topAnswers
      .slice(0, 3)
      .map(([a, s]) => `${a} ${(s * 100).toFixed(0)}%`)
      .join(', '),
  ]);
  const w = metricWording(r);
  const table = renderTable(
    [
      'group',
      'role',
      'n',
      `${w.rate} [95% CI]`,
      'vs ctrl [95% CI]',
      'p',
      `${w.exact} [95% CI]`,
      'vs ctrl',
      'p',
      'p(students)',
      'vs shuffled',
      'p',
      'p(students)',
      w.choice,
      'top answers',
    ],
    rows,
  );
  // the rate's "vs ctrl" carries its 95% bootstrap interval over questions
  const filters = Object.entries(r.filter)
    .map(
      ([t, f]) =>
        `  ${t}: ${f.passed}/${f.total} passed (${(f.passRate * 100).toFixed(1)}%), kept ${f.kept}; rejected ` +
        `${JSON.stringify(f.rejected)}`,
    )
    .join('\n');
  return [
    `run ${r.run}: trait "${r.animal}"; ${r.settings.questions} questions x ${r.settings.samplesPerQuestion} ` +
      `samples per model; ${r.settings.studentSeeds} students per group on ${r.settings.rows} rows` +
      (r.settings.studentData === 'disjoint' ? ' each, every student its own rows' : ''),
    ...findingSentences(r).map((f) => `finding: ${f}`),
    '',
    table,
    '',
    `rates: mean over questions of the ${w.rateLegend}; CI: t interval across questions (n = ` +
      `${r.settings.questions}); n = models in the group`,
    `${w.exact}: ${w.exactLegend}`,
    `p: ${r.settings.test}; students vs the control students of their base, teachers vs their base`,
    `roles: ${ROLE_LEGEND}`,
    "vs shuffled: a cross arm against its difficulty-matched control (students of its base on the same teacher's " +
      'rows with the numbers shuffled across completions); rate ratio, the question-level test and the students test',
    r.settings.studentData === 'disjoint'
      ? "p(students): one-sided Welch t-test with the models as units (each model's sampled rate); it decides the " +
        "finding here: each student learned its own slice of its teacher's rows"
      : "p(students): one-sided Welch t-test with the models as units (each model's mean exact probability, or its " +
        'sampled rate where the endpoint gives no exact metric); needs n >= 2 per group',
    'filter pass rates:',
    filters,
  ];
}
