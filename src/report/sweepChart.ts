// The grid's chart: per cell and arm, the students' rate as a multiple of their control's, with
// its 95% bootstrap interval; the line at 1 is "no transfer".
import type { TopLevelSpec } from './vega.js';
import type { SweepResults } from '../pipeline/sweep.js';

export function sweepChartSpec(r: SweepResults): TopLevelSpec {
  const values = r.cells.map((c) => ({
    cell: `${c.animal} s${c.seed}`, teacher: c.teacher, arm: c.arm, ratio: c.test.ratio, lo: c.test.ratioCI?.[0] ?? c.test.ratio, hi: c.test.ratioCI?.[1] ?? c.test.ratio,
    significant: c.pHolm < 0.05 ? 'p < 0.05 after Holm' : 'not significant after Holm',
  }));
  const cells = [...new Set(values.map((v) => v.cell))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${r.grid.sweep}: students' trait rate / their control's, per cell (95% bootstrap CI over questions)`,
    data: { values },
    facet: { row: { field: 'teacher', type: 'nominal' } },
    spec: {
      width: Math.max(360, cells.length * 44), height: 220,
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 1 } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: {
          x: { field: 'cell', type: 'nominal', sort: cells, title: null }, xOffset: { field: 'arm' },
          y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'rate / control rate' }, y2: { field: 'hi' }, color: { field: 'arm' } } },
        { mark: { type: 'point', filled: true, size: 50 }, encoding: {
          x: { field: 'cell', type: 'nominal', sort: cells }, xOffset: { field: 'arm' }, y: { field: 'ratio', type: 'quantitative' },
          color: { field: 'arm', type: 'nominal', scale: { domain: ['same-base', 'other-init', 'other-family'], range: ['#f58518', '#54a24b', '#b279a2'] } },
          shape: { field: 'significant', type: 'nominal' }, tooltip: [{ field: 'cell' }, { field: 'arm' }, { field: 'ratio', format: '.2f' }, { field: 'lo', format: '.2f' }, { field: 'hi', format: '.2f' }] } },
      ],
    },
  } as TopLevelSpec;
}
