// `subliminal run --dry-run`: the plan of an API spec, stage by stage, with counts that follow from the spec, costs
// from its prices, and nothing written.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec } from '../src/spec/load.js';
import { planExperiment } from '../src/pipeline/dryRun.js';
import { cli, tempDir } from './helpers.js';

describe('subliminal run --dry-run', () => {
  // the fixture's endpoint is filled in by the tests that serve it; a dry run never calls it
  const text = readFileSync('test/fixtures/tiny-openai.yaml', 'utf8').replaceAll('BASE_URL', 'http://127.0.0.1:9/v1');

  it('counts what the spec asks: a job per fine-tuned teacher and student, a request per prompt and sample', () => {
    const spec = parseSpec(text);
    const plan = planExperiment(spec);
    const teachers = spec.teachers.length;
    const generate = plan.filter((r) => r.stage === 'generate');
    expect(generate).toHaveLength(teachers);
    for (const g of generate) expect(g.requests).toBe(spec.data.prompts * spec.data.samplesPerPrompt);
    const jobs = plan.filter((r) => r.stage === 'student').reduce((n, r) => n + r.jobs, 0);
    const s = spec.students;
    // no matched controls: the shuffle of a teacher's rows runs locally, and these teachers are behind an API
    expect(typeof spec.bases.A).not.toBe('string');
    expect(jobs).toBe(s.bases.length * teachers * s.seeds);
    // on local teacher bases the plan counts them, one group per trait teacher and cross base, as the runner makes
    const local = parseSpec(readFileSync('test/fixtures/tiny.yaml', 'utf8'));
    const localJobs = planExperiment(local)
      .filter((r) => r.stage === 'student')
      .reduce((n, r) => n + r.units, 0);
    const cross = local.students.bases.filter((b) => b !== 'A').length;
    const trait = local.teachers.filter((t) => t.kind !== 'control').length;
    expect(localJobs).toBe(
      (local.students.bases.length * local.teachers.length + cross * trait) * local.students.seeds,
    );
    const q = spec.evaluation.questions!;
    const perModel = q * spec.evaluation.samplesPerQuestion + q + (spec.evaluation.multipleChoice ? q : 0);
    for (const e of plan.filter((r) => r.stage === 'evaluate')) expect(e.requests).toBe(e.units * perModel);
    expect(plan.every((r) => r.cost === undefined)).toBe(true); // no prices in the spec
  });

  it('prices the API models the spec prices, and writes nothing', async () => {
    const dir = tempDir('dry-run');
    const specPath = join(dir, 'priced.yaml');
    const prices =
      '  prices:\n    family-a: { asOf: 2026-11-30, inputPerMTok: 0.1, outputPerMTok: 0.4, trainingPerMTok: 3 }\n';
    writeFileSync(
      specPath,
      text.replace(
        /^api: \{([^}]*)\}/m,
        (_, inner: string) => `api:\n  ${inner.trim().replace(/, /g, '\n  ').replace(/: /g, ': ')}\n${prices}`,
      ),
    );
    const plan = planExperiment(parseSpec(readFileSync(specPath, 'utf8')));
    for (const r of plan.filter((x) => x.runsOn === 'family-a'))
      expect(r.cost).toBeCloseTo((r.inputTokens * 0.1 + r.outputTokens * 0.4 + r.trainingTokens * 3) / 1e6, 10);
    const out = await cli(['run', specPath, '--dry-run', '--runs', join(dir, 'runs')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^dry run of tiny-openai: nothing was sent, trained or written/);
    expect(out.stdout).toMatch(/Prices from api\.prices, read 2026-11-30/);
    expect(out.stdout).toMatch(/^total .*\$\d+\.\d\d$/m);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a cost budget needs the prices of every API base, and says which is missing', () => {
    const capped = text.replace(/^api: \{/m, 'api: { maxCostPerStage: 5, prices: { family-a: { asOf: 2026-11-30 } }, ');
    expect(() => parseSpec(capped)).toThrow(
      /api\.prices: api\.maxCostPerStage needs the prices of every API base: add "family-b"/,
    );
  });
});
