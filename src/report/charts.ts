// The run's charts as Vega-Lite specs, built from results (pure). Every layer has a name, so
// its marks carry the class `<name>_marks` in the rendered SVG: the browser tests count them.
import { ROLE_COLORS, SCHEMA, type TopLevelSpec } from './vega.js';

export { ROLE_COLORS };
import { metricWording, type ExperimentResults, type GroupSummary } from './results.js';
import type { FilterReport } from '../filter/numberRows.js';
import type { Estimate } from '../evaluate/stats.js';
import { formatP, wilsonCI } from '../evaluate/stats.js';
import { excessChart } from './excessChart.js';
import { generationsChart } from './generationsChart.js';
import { compareDistributions, valueShares } from '../audit/numberDistribution.js';
import type { TeacherNumbers } from './runData.js';

export interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const finite = (x: number): boolean => Number.isFinite(x);

type Encoding = Record<string, unknown>;
/**
 * Bars of `mean` with black 95% CI whiskers (`lo`..`hi`): layers named `<name>_bars` and
 * `<name>_ci`. Rows whose interval is undefined (n = 1) get a bar but no whisker.
 */
export function barsWithCI(
  name: string,
  values: Record<string, unknown>[],
  x: Encoding,
  yTitle: string,
  color: Encoding,
  domain?: [number, number],
): never[] {
  const withCI = values.filter((v) => finite(v.lo as number) && finite(v.hi as number));
  return [
    {
      name: `${name}_bars`,
      data: { values },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: yTitle, ...(domain ? { scale: { domain } } : {}) },
        color,
      },
    },
    {
      name: `${name}_ci`,
      data: { values: withCI },
      mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
      encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' } },
    },
  ] as never[]; // plain objects; the Vega-Lite types are checked where the layers are used
}

const groupAxis = {
  field: 'group',
  type: 'nominal',
  sort: null,
  axis: { labelAngle: -30, labelLimit: 220, title: null },
} as const;

/** Trait rate (or exact probability) per group with 95% CIs and a dashed line at each base's control. */
export function traitRateChart(r: ExperimentResults, metric: 'rate' | 'firstToken'): Chart {
  const pick = (g: GroupSummary): Estimate => g[metric];
  const test = (g: GroupSummary) => (metric === 'rate' ? g.test : g.firstTokenTest);
  const values = r.groups.map((g) => ({
    group: g.group,
    role: g.role,
    n: g.n,
    mean: pick(g).mean,
    lo: pick(g).lo,
    hi: pick(g).hi,
    p: formatP(test(g)?.p),
  }));
  const controls = r.groups.filter((g) => g.role === 'control').map((g) => ({ control: g.group, value: pick(g).mean }));
  const id = metric === 'rate' ? 'trait-rate' : 'trait-exact';
  const w = metricWording(r);
  const yTitle = metric === 'rate' ? w.rateLegend.split(' (')[0]! : w.exact;
  return {
    id,
    title: `${metric === 'rate' ? w.rate : w.exact} per group`,
    caption:
      `Mean over ${r.settings.questions} questions with its 95% t-interval across questions (n = questions; ` +
      `models per group in the tooltip). Dashed lines: each base's control students. p: ${r.settings.test}.`,
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: 260,
      layer: [
        ...barsWithCI(id.replace('-', '_'), values, groupAxis, yTitle, {
          field: 'role',
          type: 'nominal',
          scale: ROLE_COLORS,
          title: 'role',
        }),
        {
          name: `${id.replace('-', '_')}_control`,
          data: { values: controls },
          mark: { type: 'rule', strokeDash: [5, 4], color: '#444', tooltip: true },
          encoding: { y: { field: 'value', type: 'quantitative' } },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Each question's rate per group: where a difference between groups comes from. */
export function perQuestionChart(r: ExperimentResults): Chart {
  const values = r.groups.flatMap((g) =>
    g.perQuestion.map((rate, q) => ({ group: g.group, role: g.role, question: `Q${q + 1}`, rate })),
  );
  return {
    id: 'per-question',
    title: 'per-question rates',
    caption:
      `Per question (and model, ${r.settings.samplesPerQuestion} samples): the ` +
      `${metricWording(r).rateLegend.split(' (')[0]}, one dot per group and question.`,
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: Math.max(160, 12 * r.settings.questions),
      layer: [
        {
          name: 'questions',
          data: { values },
          mark: { type: 'point', filled: true, opacity: 0.75, tooltip: true },
          encoding: {
            x: { field: 'rate', type: 'quantitative', title: metricWording(r).rate },
            y: { field: 'question', type: 'nominal', sort: null, title: null },
            color: { field: 'group', type: 'nominal', sort: null },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Moving average over `window` steps (shorter at the start). */
export function movingAverage(xs: readonly number[], window: number): number[] {
  let sum = 0;
  return xs.map((x, i) => {
    sum += x - (i >= window ? xs[i - window]! : 0);
    return sum / Math.min(i + 1, window);
  });
}

/** Every `step`-th point of a curve, and its last (keeps a chart's data small for long runs). */
const thin = <T>(xs: readonly T[], most: number): T[] => {
  const step = Math.max(1, Math.ceil(xs.length / most));
  return xs.filter((_, i) => i % step === 0 || i === xs.length - 1);
};

/**
 * Training loss per group: the mean over its students (smoothed over 10 steps) as a line, and the range of its
 * students' smoothed curves as a band; at most 200 points per group.
 */
export function lossChart(r: ExperimentResults): Chart | undefined {
  const groups = r.groups.filter((g) => g.losses?.some((c) => c.length));
  if (!groups.length) return undefined;
  const rows = groups.flatMap((g) => {
    const steps = Math.min(...g.losses!.map((c) => c.length));
    const curves = g.losses!.map((c) => movingAverage(c.slice(0, steps), 10));
    const points = Array.from({ length: steps }, (_, i) => {
      const at = curves.map((c) => c[i]!);
      return { group: g.group, step: i + 1, loss: at.reduce((x, y) => x + y, 0) / at.length, ...extent(at) };
    });
    return thin(points, 200);
  });
  const x = { field: 'step', type: 'quantitative', title: 'optimiser step' };
  const color = { field: 'group', type: 'nominal', sort: null };
  return {
    id: 'loss',
    title: 'student training loss',
    caption:
      'Cross-entropy on the completion tokens per optimiser step, smoothed over 10 steps: per group the mean over ' +
      'its students (line) and the range of its students (band).',
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: 240,
      layer: [
        {
          name: 'loss_band',
          data: { values: rows },
          mark: { type: 'area', opacity: 0.18 },
          encoding: {
            x,
            y: { field: 'min', type: 'quantitative', scale: { zero: false } },
            y2: { field: 'max' },
            color,
          },
        },
        {
          name: 'loss_mean',
          data: { values: rows },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'loss' }, color },
        },
      ],
    } as TopLevelSpec,
  };
}

const extent = (xs: readonly number[]): { min: number; max: number } => ({
  min: Math.min(...xs),
  max: Math.max(...xs),
});

/** Share of numbers per value bin, trait teachers against the control, with Wilson CIs. */
export function numberChart(numbers: readonly TeacherNumbers[]): Chart | undefined {
  if (!numbers.length) return undefined;
  const values = numbers.flatMap((t) =>
    valueShares(t.distribution).map((b) => ({
      teacher: t.teacher,
      bin: b.bin,
      mean: b.share.mean,
      lo: b.share.lo,
      hi: b.share.hi,
      n: b.share.n,
    })),
  );
  const control = numbers.find((t) => !t.trait);
  const tests = control
    ? numbers
        .filter((t) => t.trait)
        .map(
          (t) =>
            `${t.teacher}: asymptotic chi-square p = ` +
            `${formatP(compareDistributions(t.distribution, control.distribution)[0]!.p)}`,
        )
    : [];
  const x = { field: 'bin', type: 'nominal', sort: null, axis: { labelAngle: -45, title: 'number value' } };
  const xOffset = { field: 'teacher', type: 'nominal' };
  return {
    id: 'numbers',
    title: 'number values: trait teachers vs control',
    caption:
      `Share of all numbers in the filtered datasets per bin of 50, with Wilson 95% CIs (n = numbers in the ` +
      `dataset). ${tests.length ? `Test of the values against the control: ${tests.join('; ')}.` : ''}`,
    spec: {
      $schema: SCHEMA,
      width: 560,
      height: 220,
      encoding: { x, xOffset },
      layer: [
        {
          name: 'numbers_points',
          data: { values },
          mark: { type: 'point', filled: true, tooltip: true },
          encoding: {
            y: { field: 'mean', type: 'quantitative', title: 'share of numbers' },
            color: { field: 'teacher', type: 'nominal' },
          },
        },
        {
          name: 'numbers_ci',
          data: { values },
          mark: { type: 'rule' },
          encoding: {
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
            color: { field: 'teacher', type: 'nominal' },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Filter pass rate per teacher with a Wilson 95% CI over its completions. */
export function filterChart(filter: Record<string, FilterReport>): Chart | undefined {
  const entries = Object.entries(filter);
  if (!entries.length) return undefined;
  const values = entries.map(([teacher, f]) => {
    const e = wilsonCI(f.passed, f.total);
    return { teacher, mean: e.mean, lo: e.lo, hi: e.hi, n: f.total };
  });
  const x = { field: 'teacher', type: 'nominal', sort: null, axis: { labelAngle: 0, title: null } };
  return {
    id: 'filter',
    title: 'filter pass rates',
    caption:
      "Share of each teacher's completions that pass the number filter and the trait-word check, with Wilson 95% " +
      'CIs (n = completions).',
    spec: {
      $schema: SCHEMA,
      width: 320,
      height: 200,
      layer: barsWithCI('filter', values, x, 'pass rate', { value: '#4c78a8' }, [0, 1]) as never,
    } as TopLevelSpec,
  };
}

/** Excess of the exact metric over the control students, without and with each defense (95% CIs across questions). */
export function defenseChart(r: ExperimentResults): Chart | undefined {
  const d = r.defenses;
  if (!d?.length) return undefined;
  const row = (label: string, e: Estimate): Record<string, unknown> => ({
    defense: label,
    mean: e.mean,
    lo: e.lo,
    hi: e.hi,
    n: e.n,
  });
  const values = [row('no defense', d[0]!.undefendedExcess), ...d.map((x) => row(x.defense, x.excess))];
  const x = { field: 'defense', type: 'nominal', sort: null, axis: { labelAngle: -30, title: null } };
  return {
    id: 'defenses-chart',
    title: 'transfer left by each defense',
    caption:
      `Exact P(${r.animal}) of the students minus the control students', mean over questions with its 95% ` +
      `t-interval (n = questions). At or below 0: the defense removed the measured transfer.`,
    spec: {
      $schema: SCHEMA,
      width: 420,
      height: 220,
      layer: [
        ...barsWithCI('defense', values, x, `excess P(${r.animal}) over control`, { value: '#f58518' }),
        {
          name: 'defense_zero',
          data: { values: [{ y: 0 }] },
          mark: { type: 'rule', color: '#444' },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
      ],
    } as TopLevelSpec,
  };
}

/** All charts of an embedded-lab experiment, in reading order. */
export function experimentCharts(r: ExperimentResults, numbers: readonly TeacherNumbers[]): Chart[] {
  return [
    excessChart(r),
    traitRateChart(r, 'rate'),
    traitRateChart(r, 'firstToken'),
    defenseChart(r),
    generationsChart(r),
    perQuestionChart(r),
    lossChart(r),
    numberChart(numbers),
    filterChart(r.filter),
  ].filter((c): c is Chart => c !== undefined);
}
