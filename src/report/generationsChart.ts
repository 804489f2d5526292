// The generations chart: each chain's excess over the control chain, generation by generation.
import { SCHEMA, type TopLevelSpec } from './vega.js';
import type { Chart } from './charts.js';
import { metricWording, type ExperimentResults } from './results.js';
import { formatP } from '../evaluate/stats.js';

/** Each chain's excess over the control chain per generation, with its 95% t-interval over questions. */
export function generationsChart(r: ExperimentResults): Chart | undefined {
  const values = (r.generations ?? []).flatMap((c) =>
    c.steps.map((s) => ({ chain: c.chain, generation: s.generation, ...s.excess, p: formatP(s.test.p) })),
  );
  if (!values.length) return undefined;
  const metric = r.generations![0]!.metric === 'rate' ? metricWording(r).rate : `exact P(${r.animal})`;
  const x = { field: 'generation', type: 'ordinal', axis: { labelAngle: 0 } };
  const color = { field: 'chain', type: 'nominal' };
  return {
    id: 'generations-chart',
    title: 'the trait over generations',
    caption:
      `Each chain's ${metric} minus the control chain's at the same generation, mean over questions with its 95% ` +
      "t-interval (n = questions). Generation 1: the teacher's own students. At 0: no trait left.",
    spec: {
      $schema: SCHEMA,
      width: 360,
      height: 220,
      layer: [
        {
          data: { values: [{ y: 0 }] },
          mark: { type: 'rule', color: '#444', strokeDash: [4, 3] },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values },
          mark: { type: 'errorbar', ticks: true },
          encoding: {
            x,
            color,
            y: { field: 'lo', type: 'quantitative', title: `excess ${metric}` },
            y2: { field: 'hi' },
          },
        },
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: {
            x,
            color,
            y: { field: 'mean', type: 'quantitative' },
            tooltip: [{ field: 'chain' }, { field: 'generation' }, { field: 'mean', format: '.4f' }, { field: 'p' }],
          },
        },
      ],
    } as TopLevelSpec,
  };
}
