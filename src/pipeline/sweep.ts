// A grid of runs: one spec over animals x seeds chosen before it runs. Every cell is a run of its
// own (resuming like any run); the cells keep their stages in the sweep's folder, so a stage
// whose inputs agree across cells (the control teacher's data, its students) runs once. The
// result is one table of every cell and arm, with Holm's correction across the cells.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { specVariant, type ExperimentSpec } from '../spec/schema.js';
import { hashConfig } from '../util/hash.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { formatP, formatRatio, formatRatioCI, holm, median, pLabel, type Estimate } from '../evaluate/stats.js';
import type { RunStore } from '../store/runStore.js';
import { runExperiment, type ProgressReporter } from './experiment.js';
import { isArm, type ExperimentResults, type TestResult } from './results.js';
import { ARMS, type Arm } from './arms.js';

export interface SweepGrid { sweep: string; spec: string; specHash: string; animals: string[]; seeds: number[]; registeredAt: string }
/** One arm of one cell: the arm's students against their control and, for cross arms, their matched control. */
export interface SweepCellArm {
  animal: string; seed: number; run: string; teacher: string; arm: Arm; group: string;
  rate: Estimate; control: Estimate; test: TestResult; pHolm: number;
  exact?: TestResult; matched?: TestResult; matchedHolm?: number;
}
/** An arm across the grid, per teacher: how many cells cleared each threshold. */
export interface SweepArmSummary {
  teacher: string; arm: Arm; cells: number; below01: number; above05: number; holmSignificant: number; medianRatio: number;
  /** cross arms: cells where the arm exceeds its matched control at p < 0.05, before and after Holm */
  matched?: { cells: number; below05: number; holmSignificant: number };
}
export interface SweepResults { kind: 'sweep'; grid: SweepGrid; cells: SweepCellArm[]; arms: SweepArmSummary[]; test: string }

export const GRID_FILE = 'grid.json';
export const SWEEP_RESULTS = 'sweep.json';

export class GridChangedError extends Error {
  constructor(sweep: string, before: SweepGrid) {
    super(`sweep "${sweep}" was registered with animals ${before.animals.join(',')} and seeds ${before.seeds.join(',')} (spec ${before.specHash.slice(0, 12)}); ` +
      'a grid is fixed before it runs: give the same grid, another --name, or --replace');
  }
}

/**
 * Registers the grid (written before any cell runs: the animals and seeds cannot be chosen by
 * the results), then runs each cell in order and summarises them all.
 */
export async function runSweep(spec: ExperimentSpec, o: {
  store: RunStore; specPath: string; animals: string[]; seeds: number[]; name?: string; replace?: boolean; workers?: number;
  progress?: ProgressReporter; onCell?: (cell: { animal: string; seed: number; run: string; index: number; total: number }) => void;
}): Promise<SweepResults> {
  const sweep = o.name ?? `${spec.name}-grid`;
  const dir = o.store.runDir(sweep);
  const grid: SweepGrid = { sweep, spec: o.specPath, specHash: hashConfig(spec), animals: o.animals, seeds: o.seeds, registeredAt: new Date().toISOString() };
  const gridPath = join(dir, GRID_FILE);
  if (existsSync(gridPath)) {
    const before = readJson<SweepGrid>(gridPath);
    const same = before.specHash === grid.specHash && before.animals.join() === grid.animals.join() && before.seeds.join() === grid.seeds.join();
    if (!same && !o.replace) throw new GridChangedError(sweep, before);
    if (same) grid.registeredAt = before.registeredAt;
  }
  writeJsonAtomic(gridPath, grid);
  const cells: { animal: string; seed: number; results: ExperimentResults }[] = [];
  const total = o.animals.length * o.seeds.length;
  for (const seed of o.seeds) {
    for (const animal of o.animals) {
      const cellSpec = { ...specVariant(spec, { animal, seed }), name: `${sweep}-${animal}-seed${seed}` };
      o.onCell?.({ animal, seed, run: cellSpec.name, index: cells.length, total });
      const results = await runExperiment(cellSpec, { store: o.store, specPath: o.specPath, workers: o.workers, progress: o.progress, replace: o.replace, stageRun: sweep });
      cells.push({ animal, seed, results });
    }
  }
  const summary = summariseSweep(grid, cells);
  writeJsonAtomic(join(dir, SWEEP_RESULTS), summary);
  writeFileAtomic(join(dir, 'sweep.md'), sweepMarkdown(summary));
  return summary;
}

/** Per cell, teacher and arm: the tests of its results, Holm-adjusted across the cells of that teacher and arm. */
export function summariseSweep(grid: SweepGrid, cells: readonly { animal: string; seed: number; results: ExperimentResults }[]): SweepResults {
  const rows: SweepCellArm[] = [];
  for (const { animal, seed, results } of cells) {
    for (const g of results.groups) {
      if (!isArm(g.role) || g.defense || !g.test || !g.teacher) continue;
      const control = results.groups.find((c) => c.group === g.test!.against)!;
      rows.push({ animal, seed, run: results.run, teacher: g.teacher, arm: g.role, group: g.group, rate: g.rate, control: control.rate, test: g.test, pHolm: NaN,
        ...(g.firstTokenTest ? { exact: g.firstTokenTest } : {}), ...(g.matchedTest ? { matched: g.matchedTest } : {}) });
    }
  }
  const arms: SweepArmSummary[] = [];
  const teachers = [...new Set(rows.map((r) => r.teacher))];
  for (const teacher of teachers) {
    for (const arm of ARMS) {
      const family = rows.filter((r) => r.teacher === teacher && r.arm === arm);
      if (!family.length) continue;
      holm(family.map((r) => r.test.p)).forEach((p, i) => { family[i]!.pHolm = p; });
      const matched = family.filter((r) => r.matched);
      holm(matched.map((r) => r.matched!.p)).forEach((p, i) => { matched[i]!.matchedHolm = p; });
      arms.push({ teacher, arm, cells: family.length, below01: family.filter((r) => r.test.p < 0.01).length, above05: family.filter((r) => r.test.p > 0.05).length,
        holmSignificant: family.filter((r) => r.pHolm < 0.05).length, medianRatio: median(family.map((r) => r.test.ratio)),
        ...(matched.length ? { matched: { cells: matched.length, below05: matched.filter((r) => r.matched!.p < 0.05).length, holmSignificant: matched.filter((r) => r.matchedHolm! < 0.05).length } } : {}) });
    }
  }
  return { kind: 'sweep', grid, cells: rows, arms, test: 'per cell: one-sided paired sign-flip test over questions against the control students of the arm\'s base; Holm across the cells of each teacher and arm (alpha 0.05)' };
}

const fmt = (x: number | undefined, digits = 3): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

/** The grid's table rows (shared by the terminal and sweep.md). */
export function sweepRows(r: SweepResults): string[][] {
  return r.cells.map((c) => [`${c.animal} s${c.seed}`, c.teacher, c.arm, `${fmt(c.rate.mean)} [${fmt(c.rate.lo)}, ${fmt(c.rate.hi)}]`, fmt(c.control.mean),
    formatRatioCI(c.test), formatP(c.test.p), formatP(c.pHolm), c.exact ? `${fmt(c.exact.ratio, 2)}x ${pLabel(c.exact.p)}` : '',
    c.matched ? `${formatRatioCI(c.matched)} ${pLabel(c.matched.p)}` : '']);
}
export const SWEEP_HEADER = ['cell', 'teacher', 'arm', 'rate [95% CI]', 'control', 'ratio [95% CI]', 'p', 'p (Holm)', 'exact: ratio, p', 'vs shuffled: ratio, p'];

export function sweepSummaryLines(r: SweepResults): string[] {
  return r.arms.map((a) => `${a.teacher} / ${a.arm}: p < 0.01 in ${a.below01} of ${a.cells} cells, p > 0.05 in ${a.above05}, significant after Holm in ${a.holmSignificant}; median ratio ${formatRatio(a.medianRatio)}`
    + (a.matched ? `; above its matched control at p < 0.05 in ${a.matched.below05} of ${a.matched.cells}, after Holm in ${a.matched.holmSignificant}` : ''));
}

export function sweepMarkdown(r: SweepResults): string {
  const md = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [`# Sweep ${r.grid.sweep}`, '', `Spec ${r.grid.spec} (hash ${r.grid.specHash.slice(0, 12)}); animals ${r.grid.animals.join(', ')}; seeds ${r.grid.seeds.join(', ')}; grid registered ${r.grid.registeredAt}.`, '',
    ...sweepSummaryLines(r).map((l) => `- ${l}`), '', md(SWEEP_HEADER), md(SWEEP_HEADER.map(() => '---')), ...sweepRows(r).map(md), '', r.test, ''].join('\n');
}
