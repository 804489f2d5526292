// A run as page sections (HTML tables + compiled Vega charts), shared by report.html and the
// dashboard's run page so both always show the same figures.
import { GENERATION_HEADER, generationRows, generationsLegend } from './generations.js';
import {
  EDIT_HEADER,
  EDITS_NOTE,
  SCRUB_NOTE,
  STUDENT_AUDIT_HEADER,
  STUDENT_AUDIT_NOTE,
  studentAuditCells,
  editCells,
  editsSummary,
  scrubCells,
  scrubHeader,
  scrubRowsOf,
  scrubSummary,
} from './auditText.js';
import { compile } from 'vega-lite';
import { stringify as toYaml } from 'yaml';
import type { RunData } from './runData.js';
import { experimentCharts, type Chart } from './charts.js';
import { layoutLineage, lineageChart } from './lineage.js';
import { formatEstimate, formatP, wilsonCI } from '../evaluate/stats.js';
import { compareDistributions } from '../audit/numberDistribution.js';
import { mnistChartSpec } from './mnistChart.js';
import { metricWording, type ExperimentResults } from './results.js';
import { DEFENSE_HEADER, defenseRows, matchedCells, ROLE_LEGEND, testCells } from './text.js';
import { findingSentences } from './finding.js';

export interface Section {
  id: string;
  title: string;
  html?: string;
  chart?: { vega: unknown; caption: string };
}
export interface RunPage {
  run: string;
  kind: RunData['kind'];
  status: string;
  problems: string[];
  sections: Section[];
}

export const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export function htmlTable(header: string[], rows: unknown[][], cls = ''): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const chartSection = (c: Chart): Section => ({
  id: c.id,
  title: c.title,
  chart: { vega: compile(c.spec).spec, caption: c.caption },
});

function experimentSections(d: RunData): Section[] {
  const r = d.experiment!;
  const results = htmlTable(
    [
      'group',
      'role',
      'n',
      `${metricWording(r).rate} [95% CI]`,
      'vs control [95% CI]',
      'p',
      `${metricWording(r).exact} [95% CI]`,
      'p',
      'p (students)',
      'vs shuffled: ratio, p, p (students)',
      'top answers',
    ],
    r.groups.map((g) => [
      g.group,
      g.role,
      g.n,
      ...testCells(g, false),
      // the matched-control figures in one cell, so that the table fits a 1,400-pixel screen
      matchedCells(g).filter(Boolean).join(', '),
      g.topAnswers
        .slice(0, 3)
        .map(([a, s]) => `${a} ${(s * 100).toFixed(0)}%`)
        .join(', '),
    ]),
    'results',
  );
  const filters = htmlTable(
    ['teacher', 'completions', 'passed', 'pass rate [95% CI]', 'kept', 'rejected'],
    Object.entries(r.filter).map(([t, f]) => [
      t,
      f.total,
      f.passed,
      formatEstimate(wilsonCI(f.passed, f.total)),
      f.kept,
      Object.entries(f.rejected)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]),
  );
  const control = d.numbers.find((t) => !t.trait);
  const tests = control
    ? d.numbers
        .filter((t) => t.trait)
        .flatMap((t) =>
          compareDistributions(t.distribution, control.distribution).map((x) => [
            `${t.teacher} vs ${control.teacher}`,
            x.feature,
            x.statistic.toFixed(1),
            x.df,
            formatP(x.p),
            `${x.n[0]} / ${x.n[1]}`,
          ]),
        )
    : [];
  const charts = experimentCharts(r, d.numbers).map(chartSection);
  const at = (id: string): Section[] => charts.filter((c) => c.id === id);
  const findings = findingSentences(r)
    .map((f) => `<p class="finding">${escapeHtml(f)}</p>`)
    .join('');
  const excess = charts.find((c) => c.id === 'excess');
  return [
    // the first screen: what the run found, in words and in the one chart that shows it
    { id: 'excess', title: 'what the run found', html: findings, chart: excess?.chart },
    { id: 'results', title: 'results', html: results + resultsNote(r) },
    ...at('trait-rate'),
    ...at('trait-exact'),
    ...at('per-question'),
    ...at('loss'),
    ...at('numbers'),
    ...(tests.length
      ? [
          {
            id: 'number-tests',
            title: 'number distributions against the control',
            html:
              htmlTable(['datasets', 'feature', 'chi-square', 'df', 'p (asymptotic)', 'n (trait / control)'], tests) +
              '<p class="note">Asymptotic p-values treat numbers as independent, which overstates the evidence ' +
              'when they cluster within completions; `subliminal audit dataset` gives permutation p-values ' +
              'over completions.</p>',
          },
        ]
      : []),
    ...at('defenses-chart'),
    ...(r.defenses?.length
      ? [
          {
            id: 'defenses',
            title: 'defenses',
            html:
              `${htmlTable(DEFENSE_HEADER, defenseRows(r), 'defenses')}<p class="note">Excess: exact ` +
              `P(${escapeHtml(r.animal)}) of the group minus the control students', per question (95% ` +
              `t-interval, n = questions). p (reduced): one-sided paired sign-flip test over questions that ` +
              `the defense lowered the excess.</p>`,
          },
        ]
      : []),
    ...at('generations-chart'),
    ...(r.generations?.length
      ? [
          tableSection('generations', 'generations', GENERATION_HEADER, generationRows(r), {
            cls: 'generations',
            note: generationsLegend(r),
          }),
        ]
      : []),
    ...editSections(d),
    ...at('filter'),
    { id: 'filters', title: 'filter details', html: filters },
  ];
}

/** A section of one table: a sentence above it (optional) and its note below. */
function tableSection(
  id: string,
  title: string,
  header: string[],
  rows: string[][],
  o: { note: string; intro?: string; cls?: string },
): Section {
  const intro = o.intro === undefined ? '' : `<p>${escapeHtml(o.intro)}</p>`;
  return {
    id,
    title,
    html: `${intro}${htmlTable(header, rows, o.cls ?? 'edits')}<p class="note">${escapeHtml(o.note)}</p>`,
  };
}

/** `audit student`, `audit localise`, `audit repair` and `audit scrub` results the run folder holds. */
function editSections(d: RunData): Section[] {
  const tag = (group: string): string => group.replace(/[^A-Za-z0-9]+/g, '-');
  return [
    ...(d.studentAudits.length
      ? [
          tableSection(
            'student-audits',
            'student audits: behaviour, lineage and parameters',
            STUDENT_AUDIT_HEADER,
            d.studentAudits.map(studentAuditCells),
            { note: STUDENT_AUDIT_NOTE },
          ),
        ]
      : []),
    ...d.edits.map((e) =>
      tableSection(
        `${e.what}-${tag(e.group)}`,
        e.what === 'localise' ? `where the trait lives: ${e.group}` : `repairs: ${e.group}`,
        EDIT_HEADER,
        e.table.rows.map(editCells),
        {
          intro: editsSummary(e.table, e.group, e.what === 'localise' ? 'reverting parts of' : 'surgeries on'),
          note: EDITS_NOTE,
        },
      ),
    ),
    ...d.scrubs.map((r) =>
      tableSection(
        `scrub-${tag(r.group)}`,
        `scrub and resurface: ${r.group}`,
        scrubHeader(r.animal),
        scrubRowsOf(r).map(scrubCells),
        {
          intro: scrubSummary(r, r.group),
          note: SCRUB_NOTE,
        },
      ),
    ),
  ];
}

function mnistSections(d: RunData): Section[] {
  const m = d.mnist!;
  const acc = (x: number): string => x.toFixed(3);
  return [
    chartSection({
      id: 'mnist',
      title: 'MNIST: test accuracy per condition',
      caption:
        `Mean test accuracy over N = ${m.options.models} models with 1.96·sd/√N error bars; ` + 'red line: chance.',
      spec: mnistChartSpec(m, `MNIST auxiliary-logit transfer (seed ${m.options.seed})`),
    }),
    {
      id: 'mnist-table',
      title: 'conditions',
      html: htmlTable(
        ['condition', 'mean', '95% interval', 'N', 'paper'],
        m.conditions.map((c) => [c.label, acc(c.mean), `[${acc(c.lo)}, ${acc(c.hi)}]`, c.n, c.paper ?? '']),
      ),
    },
    {
      id: 'mnist-tests',
      title: 'paired tests over models',
      html:
        htmlTable(
          ['one-sided test', 'mean difference', 'p', 'pairs'],
          m.tests.map((t) => [`${t.better} > ${t.worse}`, acc(t.meanDiff), formatP(t.p), t.n]),
        ) +
        htmlTable(
          ['check', 'value', 'rule', 'verdict'],
          m.checks.map((c) => [c.name, acc(c.value), c.rule, c.pass ? 'PASS' : 'FAIL']),
        ),
    },
  ];
}

function stagesSection(d: RunData): Section | undefined {
  if (!d.stages.length) return undefined;
  const total = d.stages.reduce((s, x) => s + (x.seconds ?? 0), 0);
  return {
    id: 'stages',
    title: 'stages',
    html:
      htmlTable(
        ['stage', 'name', 'status', 'seconds'],
        d.stages.map((s) => [s.kind, s.name, s.status, s.seconds?.toFixed(1) ?? '']),
      ) +
      `<p class="note">${d.stages.length} stages, ${total.toFixed(0)} s of stage time (stages run in parallel on ` +
      `the worker pool).</p>`,
  };
}

export function runPage(d: RunData): RunPage {
  const mnistFirstModel = (name: string): boolean => /-0$/.test(name);
  const layout = layoutLineage(
    d.artifacts,
    d.edges,
    d.kind === 'mnist' ? (a) => a.kind === 'dataset' || mnistFirstModel(a.name) : undefined,
  );
  const lineage = lineageChart(
    layout,
    d.kind === 'mnist'
      ? 'Model 0 of the run and its data: reference init -> teacher -> the four students (every model index has ' +
          'the same shape).'
      : 'Artifacts of this run from the index (hover for ids): bases, teachers, generated and filtered datasets, ' +
          'students.',
  );
  // the story first (results and the headline chart), then where the models came from, then the detail
  const results = d.kind === 'experiment' ? experimentSections(d) : d.kind === 'mnist' ? mnistSections(d) : [];
  const headline = d.kind === 'experiment' ? 3 : 1;
  const sections: Section[] = [
    ...results.slice(0, headline),
    ...(lineage ? [chartSection(lineage)] : []),
    ...results.slice(headline),
  ];
  if (d.spec)
    sections.push({ id: 'spec', title: 'spec', html: `<pre class="spec">${escapeHtml(toYaml(d.spec))}</pre>` });
  const stages = stagesSection(d);
  if (stages) sections.push(stages);
  return {
    run: d.name,
    kind: d.kind !== 'unknown' ? d.kind : kindFromSpec(d.spec),
    status: d.row?.status ?? (d.kind === 'unknown' ? 'unknown' : 'done'),
    problems: d.problems.map((p) => p.message),
    sections,
  };
}

/** What the results table's columns mean, under it. */
function resultsNote(r: ExperimentResults): string {
  const sampling = `${r.settings.questions} questions x ${r.settings.samplesPerQuestion} samples per model`;
  return (
    `<p class="note">Rates: mean over ${sampling}, 95% t-interval across questions. ` +
    `p: ${escapeHtml(r.settings.test)}. ` +
    "p (students): one-sided Welch test over the models' mean exact probabilities. " +
    `Roles: ${escapeHtml(ROLE_LEGEND)}. ` +
    'vs shuffled: a cross arm against its difficulty-matched control, same test.</p>'
  );
}

/** A run with no results yet (running, or failed) is still an experiment or an MNIST run: its spec says which. */
const kindFromSpec = (spec: Record<string, unknown> | undefined): RunData['kind'] =>
  spec?.experiment === 'mnist' ? 'mnist' : spec?.teachers ? 'experiment' : 'unknown';
