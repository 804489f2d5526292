// The worker pool survives a worker that dies: the job it held fails with a clear error, and
// the jobs after it run on a replacement instead of hanging.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerPool } from '../src/pipeline/pool.js';
import { tempDir } from './helpers.js';

describe('a worker that dies', () => {
  it('fails its job, is replaced, and later jobs still run', async () => {
    // a heap too small for a million tokenised prompts: the worker dies out of memory mid-job
    const pool = new WorkerPool(1, { maxOldGenerationSizeMb: 64 });
    try {
      const prompts = Array.from({ length: 1_500_000 }, (_, i) => `Name an animal you like ${i}`);
      const doomed = pool.run('generateCompletions', {
        modelDir: 'models/family-a',
        prompts,
        outDir: tempDir('doomed'),
        temperature: 1,
        topP: 1,
        maxTokens: 8,
        seed: 1,
      });
      await expect(doomed).rejects.toThrow(/worker thread died during the job/);
      expect(pool.size).toBe(1);
      const dir = tempDir('after-death');
      const after = await Promise.race([
        pool.run('generateCompletions', {
          modelDir: 'models/family-a',
          prompts: ['Name an animal.', 'Count to three.'],
          outDir: dir,
          temperature: 1,
          topP: 1,
          maxTokens: 8,
          seed: 1,
        }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the job after the dead worker hung')), 60_000)),
      ]);
      expect(after).toEqual({ rows: 2 });
      expect(existsSync(join(dir, 'rows.jsonl'))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
