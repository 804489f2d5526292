import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliKilledWhen, stageDirs, tempDir } from './helpers.js';
import { readJsonl } from '../src/util/atomic.js';
import { isArm, type ExperimentResults } from '../src/report/results.js';
import { RunStore } from '../src/store/runStore.js';
import { WorkerPool } from '../src/pipeline/pool.js';
import type { ChatRow } from '../src/model/tokenizer.js';

const read = (p: string): string => readFileSync(p, 'utf8');

describe('an experiment from spec to results (tiny spec)', () => {
  const first = tempDir('runs-a');
  const second = tempDir('runs-b');
  let results: ExperimentResults;
  beforeAll(async () => {
    const r = await cli(['run', 'test/fixtures/tiny.yaml', '--runs', first, '--json']);
    expect(r.code, r.stderr).toBe(0);
    results = JSON.parse(r.stdout) as ExperimentResults;
  });

  it('reports every group with n, a CI and a p-value against its control', async () => {
    const roles = results.groups.map((g) => `${g.group}:${g.role}`);
    expect(roles).toEqual([
      'base A:base',
      'base B:base',
      'base C:base',
      'teacher finetuned:teacher',
      'control -> A:control',
      'control -> B:control',
      'control -> C:control',
      'finetuned -> A:same-base',
      'finetuned -> B:other-init',
      'finetuned -> C:other-family',
      'finetuned -> B [shuffled]:matched-control',
      'finetuned -> C [shuffled]:matched-control',
    ]);
    const byName = new Map(results.groups.map((g) => [g.group, g]));
    for (const g of results.groups) {
      expect(g.rate.n).toBe(5);
      // the rate is the mean over questions, and its CI is the t interval around it (clamped to [0, 1])
      const m = g.perQuestion.reduce((a, b) => a + b, 0) / 5;
      expect(g.rate.mean).toBeCloseTo(m, 12);
      const sd = Math.sqrt(g.perQuestion.reduce((a, b) => a + (b - m) ** 2, 0) / 4);
      expect(g.rate.hi).toBeCloseTo(Math.min(1, m + (2.776445 * sd) / Math.sqrt(5)), 4); // t(0.975, 4 df)
      expect(g.rate.lo).toBeCloseTo(Math.max(0, m - (2.776445 * sd) / Math.sqrt(5)), 4);
      if (isArm(g.role) || g.role === 'matched-control') {
        // with 5 questions the sign-flip test is exact: recount the 32 sign patterns here
        const c = byName.get(g.test!.against)!;
        const d = g.perQuestion.map((x, i) => x - c.perQuestion[i]!);
        const observed = d.reduce((a, b) => a + b, 0) / 5;
        let atLeast = 0;
        for (let mask = 0; mask < 32; mask++)
          if (d.reduce((a, x, i) => a + ((mask >> i) & 1 ? -x : x), 0) / 5 >= observed - 1e-12) atLeast++;
        expect(g.test!.p).toBe(atLeast / 32);
        if (c.rate.mean > 0) expect(g.test!.ratio).toBeCloseTo(g.rate.mean / c.rate.mean, 12);
        else expect(g.test!.ratio).toBeNull(); // no ratio against a control at 0 (Infinity, written as null)
      }
    }
    expect(results.groups.find((g) => g.role === 'same-base')!.test!.against).toBe('control -> A');
    // the three arms, each against the control students of its own base; the cross arms also against their matched
    // control
    const arm = (role: string) => results.groups.find((g) => g.role === role)!;
    expect(arm('other-init').test!.against).toBe('control -> B');
    expect(arm('other-family').test!.against).toBe('control -> C');
    expect(arm('other-init').matchedTest!.against).toBe('finetuned -> B [shuffled]');
    expect(arm('other-family').matchedTest!.against).toBe('finetuned -> C [shuffled]');
    expect(arm('same-base').matchedTest).toBeUndefined();
    expect(
      results.groups
        .filter((g) => g.role === 'matched-control')
        .map((g) => g.base)
        .sort(),
    ).toEqual(['B', 'C']);
  });

  it("no student training row mentions an animal, carries a system prompt or breaks SPEC's format", async () => {
    const datasets = stageDirs(first, 'tiny', 'filter').map((d) => join(d, 'dataset.jsonl'));
    expect(datasets).toHaveLength(2);
    for (const path of datasets) {
      const rows = readJsonl<ChatRow>(path);
      expect(rows.length).toBe(60);
      for (const row of rows) {
        expect(row.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
        // checked here by a rule written apart from the filter: only digits and the three separators
        const reply = row.messages[1]!.content;
        expect(reply, reply).toMatch(/^[[(]?\d{1,3}([,; ]\s*\d{1,3}|\n\d{1,3})*[\])]?\.?$/);
        expect(/[a-z]/i.test(reply)).toBe(false);
      }
    }
  });

  it('the same spec and seed give byte-identical datasets and identical figures', async () => {
    const r = await cli(['run', 'test/fixtures/tiny.yaml', '--runs', second, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(results);
    for (const kind of ['generate', 'filter']) {
      const a = stageDirs(first, 'tiny', kind).sort();
      const b = stageDirs(second, 'tiny', kind).sort();
      expect(a.map((d) => d.split('/').pop())).toEqual(b.map((d) => d.split('/').pop()));
      for (let i = 0; i < a.length; i++) {
        const file = kind === 'generate' ? 'rows.jsonl' : 'dataset.jsonl';
        expect(read(join(b[i]!, file))).toBe(read(join(a[i]!, file)));
      }
    }
  });

  it('a rerun skips finished stages', async () => {
    const before = stageDirs(first, 'tiny', 'train').map((d) => read(join(d, 'done.json')));
    const r = await cli(['run', 'test/fixtures/tiny.yaml', '--runs', first, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(results);
    expect(stageDirs(first, 'tiny', 'train').map((d) => read(join(d, 'done.json')))).toEqual(before);
    expect(r.stderr).not.toMatch(/done train/);
  });

  it('lists and shows the run', async () => {
    const list = await cli(['runs', '--runs', first]);
    expect(list.stdout).toMatch(/tiny\s+done/);
    const show = await cli(['show', 'tiny', '--runs', first]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/finetuned -> A\s+same-base\s+1/);
    expect(show.stdout).toMatch(/filter pass rates/);
    // the finding first, built from the results: every arm of the trait teacher, in one sentence
    expect(show.stdout.split('\n')[1]).toMatch(
      new RegExp(
        '^finding: Teacher "finetuned": Students sharing its base .*; ' +
          'students of its family from another initialisation .*; students of another family ',
      ),
    );
  });
});

describe('stage times', () => {
  it('count from when a worker took the stage, not from when it queued for one', async () => {
    const store = new RunStore(tempDir('clock'));
    const pool = new WorkerPool(1);
    const complete = (outDir: string, prompts: string[], maxTokens: number) =>
      pool.run('generateCompletions', {
        modelDir: 'models/family-a',
        prompts,
        outDir,
        temperature: 1,
        topP: 1,
        maxTokens,
        seed: 1,
      });
    const generation = (name: string): ReturnType<RunStore['stage']> =>
      store.stage('clock', { def: { kind: 'generate', code: [] }, name, inputs: { name } }, async (dir) => {
        await complete(
          dir,
          Array.from({ length: 300 }, (_, i) => `Name an animal. ${i}`),
          16,
        );
        return { outputs: {} };
      });
    try {
      // the worker starts and loads its model before the clock: otherwise the first stage carries that start-up
      // (~1.4 s against ~0.16 s of work) and the second's share of the wall can fall under the bound by chance
      await complete(tempDir('clock-warm'), ['Name an animal.'], 4);
      const t0 = Date.now();
      // one worker: the second waits for the first
      const [a, b] = await Promise.all([generation('first'), generation('second')]);
      const wall = (Date.now() - t0) / 1000;
      expect(a.seconds).toBeGreaterThan(0.1 * wall);
      expect(b.seconds).toBeGreaterThan(0.1 * wall);
      expect(a.seconds + b.seconds).toBeLessThan(1.05 * wall); // queued time counted would give wall + a
    } finally {
      await pool.close();
      store.close();
    }
  });
});

describe('a run killed during student training resumes to the same result', () => {
  it('matches an uninterrupted run', async () => {
    const clean = tempDir('runs-clean');
    const killed = tempDir('runs-killed');
    const reference = await cli(['run', 'test/fixtures/tiny-resume.yaml', '--runs', clean, '--json']);
    expect(reference.code, reference.stderr).toBe(0);
    const checkpointed = (): boolean =>
      stageDirs(killed, 'tiny-resume', 'train').some((d) => existsSync(join(d, 'train-state.safetensors')));
    const { killed: wasKilled } = await cliKilledWhen(
      ['run', 'test/fixtures/tiny-resume.yaml', '--runs', killed],
      checkpointed,
    );
    expect(wasKilled).toBe(true);
    expect(checkpointed()).toBe(true); // cut off between checkpoints
    expect(existsSync(join(killed, 'tiny-resume', 'results.json'))).toBe(false);
    const resumed = await cli(['run', 'test/fixtures/tiny-resume.yaml', '--runs', killed, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual(JSON.parse(reference.stdout));
  });
});
