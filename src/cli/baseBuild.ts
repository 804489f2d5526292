// `subliminal base build`: pretrain an embedded base in this process, with a progress bar and a
// resumable checkpoint next to the output folder.
import { join } from 'node:path';
import { initBackend } from '../model/backend.js';
import { buildBase, DEFAULT_BASE } from '../base/build.js';
import { terminalProgress } from './progress.js';
import { clearCheckpoint } from '../train/sft.js';

export async function buildBaseCommand(o: { seed: number; family: string; out?: string; rows?: number; epochs?: number; corpus?: string }): Promise<void> {
  await initBackend();
  const out = o.out ?? join('models', `family-${o.family.toLowerCase()}`);
  const ckpt = `${out}.partial`;
  const progress = terminalProgress(); const task = progress.task(`pretrain base ${o.family} (seed ${o.seed})`);
  const t0 = Date.now();
  const { model, result } = buildBase({ ...DEFAULT_BASE, seed: o.seed, family: o.family, corpus: o.corpus, ...(o.rows ? { rows: o.rows } : {}), ...(o.epochs ? { epochs: o.epochs } : {}) },
    { checkpointDir: ckpt, onProgress: (p) => task.update(p.step, p.totalSteps) });
  task.done(); progress.stop();
  model.save(out); clearCheckpoint(ckpt);
  const tail = result.losses.slice(-50);
  process.stdout.write(`saved ${out}: ${result.steps} steps, ${result.tokens} tokens, final loss ${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(3)}, ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
}
