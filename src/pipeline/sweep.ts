// A grid of runs: one spec over animals x seeds chosen before it runs. Every cell is a run of its
// own (resuming like any run); the cells keep their stages in the sweep's folder, so a stage
// whose inputs agree across cells (the control teacher's data, its students) runs once. The
// result is one table of every cell and arm, with Holm's correction across the cells.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ExperimentSpec } from '../spec/schema.js';
import { specVariant } from '../spec/load.js';
import { hashConfig } from '../util/hash.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import type { RunStore } from '../store/runStore.js';
import { runExperiment } from './experiment.js';
import type { ProgressReporter } from '../util/progress.js';
import { summariseSweep, sweepMarkdown, type SweepGrid, type SweepResults } from '../report/sweep.js';
import type { ExperimentResults } from '../report/results.js';
import { calibrateSweep, calibrationUnavailable, type SeedCell } from './sweepCalibration.js';

export const GRID_FILE = 'grid.json';
export const SWEEP_RESULTS = 'sweep.json';

export class GridChangedError extends Error {
  constructor(sweep: string, before: SweepGrid) {
    super(
      `sweep "${sweep}" was registered with animals ${before.animals.join(',')} and seeds ` +
        `${before.seeds.join(',')} (spec ${before.specHash.slice(0, 12)}); ` +
        'a grid is fixed before it runs: give the same grid, another --name, or --replace',
    );
  }
}

/**
 * Registers the grid (written before any cell runs: the animals and seeds cannot be chosen by
 * the results), then runs each cell in order and summarises them all.
 */
export async function runSweep(
  spec: ExperimentSpec,
  o: {
    store: RunStore;
    specPath: string;
    animals: string[];
    seeds: number[];
    name?: string;
    replace?: boolean;
    workers?: number;
    progress?: ProgressReporter;
    onCell?: (cell: { animal: string; seed: number; run: string; index: number; total: number }) => void;
  },
): Promise<SweepResults> {
  const sweep = o.name ?? `${spec.name}-grid`;
  const dir = o.store.runDir(sweep);
  const grid: SweepGrid = {
    sweep,
    spec: o.specPath,
    specHash: hashConfig(spec),
    animals: o.animals,
    seeds: o.seeds,
    registeredAt: new Date().toISOString(),
  };
  const gridPath = join(dir, GRID_FILE);
  if (existsSync(gridPath)) {
    const before = readJson<SweepGrid>(gridPath);
    const same =
      before.specHash === grid.specHash &&
      before.animals.join() === grid.animals.join() &&
      before.seeds.join() === grid.seeds.join();
    if (!same && !o.replace) throw new GridChangedError(sweep, before);
    if (same) grid.registeredAt = before.registeredAt;
  }
  writeJsonAtomic(gridPath, grid);
  const cells: { animal: string; seed: number; results: ExperimentResults }[] = [];
  const seedCells: SeedCell[] = []; // each seed's first cell: its control students are every cell's of that seed
  const total = o.animals.length * o.seeds.length;
  for (const seed of o.seeds) {
    for (const animal of o.animals) {
      const cellSpec = { ...specVariant(spec, { animal, seed }), name: `${sweep}-${animal}-seed${seed}` };
      o.onCell?.({ animal, seed, run: cellSpec.name, index: cells.length, total });
      const results = await runExperiment(cellSpec, {
        store: o.store,
        specPath: o.specPath,
        workers: o.workers,
        progress: o.progress,
        replace: o.replace,
        stageRun: sweep,
      });
      cells.push({ animal, seed, results });
      if (!seedCells.some((c) => c.seed === seed)) seedCells.push({ seed, spec: cellSpec, run: cellSpec.name });
    }
  }
  const unavailable = calibrationUnavailable(spec, o.seeds);
  const calibration = unavailable
    ? undefined
    : await calibrateSweep(sweep, seedCells, { store: o.store, workers: o.workers, progress: o.progress });
  const summary = {
    ...summariseSweep(grid, cells),
    ...(calibration ? { calibration } : { calibrationNote: unavailable ?? 'no control students to resample' }),
  };
  writeJsonAtomic(join(dir, SWEEP_RESULTS), summary);
  writeFileAtomic(join(dir, 'sweep.md'), sweepMarkdown(summary));
  return summary;
}
