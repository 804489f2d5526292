// The grid's chart: per cell and arm, the students' rate as a multiple of their control's, with
// its 95% bootstrap interval; the line at 1 is "no transfer".
import type { TopLevelSpec } from './vega.js';
import type { SweepResults } from './sweep.js';
import { ARMS } from './results.js';
import { ROLE_COLORS } from './vega.js';

export function sweepChartSpec(r: SweepResults): TopLevelSpec {
  const values = r.cells.map((c) => ({
    cell: `${c.animal} s${c.seed}`,
    teacher: c.teacher,
    arm: c.arm,
    ratio: c.test.ratio,
    lo: c.test.ratioCI?.[0] ?? c.test.ratio,
    hi: c.test.ratioCI?.[1] ?? c.test.ratio,
    significant: c.pHolm < 0.05 ? 'Holm p < 0.05' : 'Holm p >= 0.05',
  }));
  const cells = [...new Set(values.map((v) => v.cell))];
  // one definition of each shared channel: layers must agree on sort and scale
  const x = { field: 'cell', type: 'nominal', sort: cells, title: null } as const;
  const arms = [...ARMS];
  const xOffset = { field: 'arm', type: 'nominal', sort: arms } as const;
  const color = {
    field: 'arm',
    type: 'nominal',
    scale: { domain: arms, range: arms.map((a) => ROLE_COLORS.range[ROLE_COLORS.domain.indexOf(a)]!) },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${r.grid.sweep}: students' trait rate / their control's, per cell (95% bootstrap CI over questions)`,
    data: { values },
    facet: { row: { field: 'teacher', type: 'nominal' } },
    spec: {
      width: Math.max(360, cells.length * 44),
      height: 220,
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 1 } } },
        {
          mark: { type: 'errorbar', ticks: true },
          encoding: {
            x,
            xOffset,
            y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'rate / control rate' },
            y2: { field: 'hi' },
            color,
          },
        },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            x,
            xOffset,
            y: { field: 'ratio', type: 'quantitative' },
            color,
            shape: { field: 'significant', type: 'nominal' },
            tooltip: [
              { field: 'cell' },
              { field: 'arm' },
              { field: 'ratio', format: '.2f' },
              { field: 'lo', format: '.2f' },
              { field: 'hi', format: '.2f' },
            ],
          },
        },
      ],
    },
  } as TopLevelSpec;
}
