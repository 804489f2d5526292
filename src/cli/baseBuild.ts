// `subliminal base build`: pretrain an embedded base in this process, with a progress bar and a
// resumable checkpoint next to the output folder.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './args.js';
import { initBackend } from '../model/backend.js';
import { buildBase, DEFAULT_BASE } from '../base/build.js';
import { terminalProgress } from './progress.js';
import type { NumberTokens } from '../model/tokenizer.js';

export interface BaseBuildOptions {
  seed: number;
  family: string;
  out?: string;
  rows?: number;
  epochs?: number;
  corpus?: string;
  force?: boolean;
  numbers?: NumberTokens;
  hiddenSize?: number;
  layers?: number;
  intermediateSize?: number;
  maxPositions?: number;
}

export async function buildBaseCommand(o: BaseBuildOptions): Promise<void> {
  const out = o.out ?? join('models', `family-${o.family.toLowerCase()}`);
  // a base folder may be a committed one that every example and test relies on: never overwrite it silently
  if (existsSync(join(out, 'model.safetensors')) && !o.force)
    throw new UsageError(`${out} already holds a model; choose another --out, or pass --force to overwrite it`);
  await initBackend();
  const ckpt = `${out}.partial`;
  const progress = terminalProgress();
  const task = progress.task(`pretrain base ${o.family} (seed ${o.seed})`);
  const t0 = Date.now();
  const given = Object.fromEntries(
    Object.entries({
      rows: o.rows,
      epochs: o.epochs,
      numbers: o.numbers,
      hiddenSize: o.hiddenSize,
      layers: o.layers,
      intermediateSize: o.intermediateSize,
      maxPositions: o.maxPositions,
    }).filter(([, v]) => v !== undefined),
  );
  const { model, result } = buildBase(
    { ...DEFAULT_BASE, seed: o.seed, family: o.family, corpus: o.corpus, ...given },
    { checkpointDir: ckpt, onProgress: (p) => task.update(p.step, p.totalSteps) },
  );
  task.done();
  progress.stop();
  model.save(out);
  rmSync(ckpt, { recursive: true, force: true }); // the folder holds only the resumable checkpoint
  const tail = result.losses.slice(-50);
  process.stdout.write(
    `saved ${out}: ${result.steps} steps, ${result.tokens} tokens, final loss ` +
      `${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(3)}, ` +
      `${((Date.now() - t0) / 1000).toFixed(1)}s\n`,
  );
}
