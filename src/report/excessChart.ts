// The report's main chart: how far each student group sits above its own control, with its interval.
import { ROLE_COLORS, SCHEMA, type TopLevelSpec } from './vega.js';
import { metricWording, type ExperimentResults, type GroupSummary } from './results.js';
import { formatP, formatRatio, meanCI, type Estimate } from '../evaluate/stats.js';
import type { Chart } from './charts.js';

const finite = (x: number): boolean => Number.isFinite(x);

/** Each student group's excess over its control, per question: the paired difference the test is on. */
export function excessOverControl(r: ExperimentResults): (Estimate & { g: GroupSummary })[] {
  return r.groups.flatMap((g) => {
    const control = g.test && r.groups.find((c) => c.group === g.test!.against);
    if (!control || g.role === 'teacher' || g.role === 'base') return [];
    return [{ g, ...meanCI(g.perQuestion.map((x, q) => x - control.perQuestion[q]!)) }];
  });
}

/**
 * The main chart: each student group's trait rate minus its control's, with the 95% t-interval over questions;
 * at 0 a student is no different from its control. Teachers and bases are left to the rate charts.
 */
export function excessChart(r: ExperimentResults): Chart | undefined {
  const rows = excessOverControl(r);
  if (!rows.length) return undefined;
  const values = rows.map(({ g, mean, lo, hi }) => ({
    group: g.group,
    role: g.role,
    excess: mean,
    lo,
    hi,
    vs: g.test!.against,
    ratio: formatRatio(g.test!.ratio),
    p: formatP(g.test!.p),
  }));
  // the report's colours for every role; the legend lists the roles this chart shows
  const roles = ROLE_COLORS.domain.filter((role) => values.some((v) => v.role === role));
  const roleColor = { field: 'role', type: 'nominal', scale: ROLE_COLORS, legend: { title: 'role', values: roles } };
  const y = { field: 'group', type: 'nominal', sort: null, axis: { title: null, labelLimit: 260 } };
  const x = { field: 'excess', type: 'quantitative', title: `${metricWording(r).rate}: student minus control` };
  return {
    id: 'excess',
    title: 'excess over control',
    caption:
      `Each student group's ${metricWording(r).rate} minus its control's, mean over ${r.settings.questions} ` +
      'questions with the 95% t-interval of the paired differences; right of 0: more than the control. ' +
      `Tooltip: ratio and p (${r.settings.test}).`,
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: { step: 22 },
      layer: [
        {
          name: 'excess_zero',
          data: { values: [{ zero: 0 }] },
          mark: { type: 'rule', color: '#444', strokeDash: [4, 3] },
          encoding: { x: { field: 'zero', type: 'quantitative' } },
        },
        {
          name: 'excess_ci',
          data: { values: values.filter((v) => finite(v.lo) && finite(v.hi)) },
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' }, color: roleColor },
        },
        {
          name: 'excess_points',
          data: { values },
          mark: { type: 'point', filled: true, size: 70, tooltip: true },
          encoding: { y, x, color: roleColor },
        },
      ],
    } as TopLevelSpec,
  };
}
