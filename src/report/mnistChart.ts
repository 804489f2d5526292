// The MNIST run's chart: mean test accuracy per condition with its interval, and chance.
import type { TopLevelSpec } from './vega.js';
import { barsWithCI } from './charts.js';
import type { Condition } from '../mnist/shard.js';
import type { MnistSummary } from '../mnist/results.js';

/** Short names for chart axes. */
const CHART_LABELS: Record<Condition, string> = {
  reference: 'reference',
  teacher: 'teacher',
  'student-aux-same': 'aux only, same init',
  'student-aux-cross': 'aux only, other init',
  'student-all-same': 'all 13, same init',
  'student-all-cross': 'all 13, other init',
};

/** Bars of mean accuracy per condition with 1.96·sd/√N error bars and a chance line. */
export function mnistChartSpec(s: MnistSummary, title: string): TopLevelSpec {
  const values = s.conditions.map((c) => ({
    condition: CHART_LABELS[c.condition],
    group: c.condition.startsWith('student') ? 'student' : c.condition,
    mean: c.mean,
    lo: Math.max(0, c.lo),
    hi: Math.min(1, c.hi),
  }));
  const x = {
    field: 'condition',
    type: 'nominal',
    sort: null,
    axis: { labelAngle: -25, labelLimit: 200, title: null },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 460,
    height: 260,
    layer: [
      ...barsWithCI(
        'mnist',
        values,
        x,
        'test accuracy (mean ± 1.96·sd/√N)',
        {
          field: 'group',
          type: 'nominal',
          legend: null,
          scale: { domain: ['reference', 'teacher', 'student'], range: ['#bab0ac', '#4c78a8', '#f58518'] },
        },
        [0, 1],
      ),
      {
        name: 'mnist_chance',
        data: { values: [{ chance: 0.1 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#e45756' },
        encoding: { y: { field: 'chance', type: 'quantitative' } },
      },
    ],
  };
}
