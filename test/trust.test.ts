// Results you can trust: stages that know their code, every sample kept and rescored, a failed
// rerun that touches nothing, one writer per run, refused hostile input. Each test plays the
// failure as a user would meet it, on a tiny real run.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { cli, CLI, ROOT, tempDir } from './helpers.js';
import { RunStore } from '../src/store/runStore.js';
import { runExperiment } from '../src/pipeline/experiment.js';
import { rescoreRun } from '../src/pipeline/rescore.js';
import { RESULTS_SCHEMA_VERSION } from '../src/report/results.js';
import { loadSpec, parseSpec } from '../src/spec/load.js';
import { createServer } from '../src/serve/server.js';
import { createUiServer } from '../src/ui/server.js';
import { OpenAIEndpoint, DEFAULT_ENDPOINT } from '../src/provider/openai.js';
import { fineTuneRemote } from '../src/provider/fineTune.js';
import { readJsonl } from '../src/util/atomic.js';
import { modelPath } from '../src/cli/args.js';
import type { ScoredSample } from '../src/evaluate/samples.js';
import type { ExperimentResults } from '../src/report/results.js';

const TINY = join(ROOT, 'test/fixtures/tiny.yaml');
/** The figures of a results file, without the header fields that name when and by what it was written. */
const figures = (r: ExperimentResults): unknown => {
  const { codeVersion: _c, ...rest } = JSON.parse(JSON.stringify(r)) as ExperimentResults;
  return rest;
}; // as written to disk (NaN as null)
const readResults = (runs: string, run: string): ExperimentResults =>
  JSON.parse(readFileSync(join(runs, run, 'results.json'), 'utf8')) as ExperimentResults;

describe('stages that know their code, and every sample kept', () => {
  const runs = tempDir('trust-code');
  let first: ExperimentResults;
  beforeAll(async () => {
    const store = new RunStore(runs);
    try {
      first = await runExperiment(loadSpec(TINY), { store, specPath: TINY });
    } finally {
      store.close();
    }
  });

  it('results.json says what it is', async () => {
    const r = readResults(runs, 'tiny');
    expect(r).toMatchObject({ kind: 'experiment', schemaVersion: RESULTS_SCHEMA_VERSION });
    expect(r.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.codeVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(r.kernel).toMatch(/^(wasm|native-[0-9a-f]{12})$/);
  });

  it('a changed scorer reruns exactly the score stages; a changed sampler exactly the evaluate stages', async () => {
    const again = async (
      codeVersions: Record<string, string>,
    ): Promise<{ kinds: Record<string, number>; results: ExperimentResults }> => {
      const store = new RunStore(runs, { codeVersions });
      try {
        const results = await runExperiment(loadSpec(TINY), { store, specPath: TINY });
        const kinds: Record<string, number> = {};
        for (const s of store.executed) kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
        return { kinds, results };
      } finally {
        store.close();
      }
    };
    const models = first.groups.reduce((n, g) => n + g.n, 0); // every evaluated model
    expect(await again({})).toMatchObject({ kinds: {} }); // nothing changed: nothing runs
    const scorer = await again({ score: 'a fixed scorer' });
    expect(scorer.kinds).toEqual({ score: models });
    expect(figures(scorer.results)).toEqual(figures(first)); // same samples, same scorer logic: same figures
    const sampler = await again({ score: 'a fixed scorer', evaluate: 'a fixed sampler' });
    expect(sampler.kinds).toEqual({ evaluate: models }); // the samples came out the same, so their scores are reused
    const filter = await again({ score: 'a fixed scorer', evaluate: 'a fixed sampler', filter: 'a fixed filter' });
    expect(filter.kinds).toEqual({ filter: 2 }); // same kept rows: nothing downstream reruns
  });

  it('keeps every sample with its score, and rescore reproduces the figures without sampling', async () => {
    const scoreDirs = readdirSync(join(runs, 'tiny', 'stages')).filter((d) => d.startsWith('score-'));
    expect(scoreDirs.length).toBeGreaterThanOrEqual(first.groups.reduce((n, g) => n + g.n, 0));
    const scored = readJsonl<ScoredSample>(join(runs, 'tiny', 'stages', scoreDirs[0]!, 'eval.jsonl'));
    const replies = scored.filter((x) => x.type === 'reply');
    expect(replies).toHaveLength(5 * 8); // questions x samples, every one kept
    expect(replies.every((x) => typeof x.reply === 'string' && (x.score === 0 || x.score === 1))).toBe(true);
    const exact = scored.filter((x) => x.type === 'first-token');
    expect(exact).toHaveLength(5);
    expect(exact.every((x) => x.score! > 0 && x.score! < 1)).toBe(true); // P(first token is owl), never exactly 0 or 1
    const before = readFileSync(join(runs, 'tiny', 'results.json'), 'utf8');
    const store = new RunStore(runs);
    try {
      const same = await rescoreRun(store, 'tiny');
      expect(figures(same.results)).toEqual(figures(JSON.parse(before)));
      expect(store.executed).toEqual([]); // no stage ran: nothing was sampled
      const cat = await rescoreRun(store, 'tiny', { animal: 'cat' });
      expect(cat.path).toBe(join(runs, 'tiny', 'rescore-cat.json'));
      expect(cat.results.animal).toBe('cat');
      const rates = (r: ExperimentResults): number[] => r.groups.map((g) => g.firstToken.mean);
      // another scorer target: other figures, from the same samples
      expect(rates(cat.results)).not.toEqual(rates(same.results));
      // the run's own results are left alone
      expect(figures(readResults(runs, 'tiny'))).toEqual(figures(JSON.parse(before)));
    } finally {
      store.close();
    }
  });
});

describe('failures that damage nothing', () => {
  const runs = tempDir('trust-fail');
  const specDir = tempDir('trust-specs');
  const tiny = readFileSync(TINY, 'utf8').replaceAll('../../models/', `${ROOT}/models/`);
  const spec = (name: string, text: string): string => {
    const p = join(specDir, name);
    writeFileSync(p, text);
    return p;
  };
  const snapshot = (): unknown => {
    const dir = join(runs, 'tiny');
    const files = ['results.json', 'spec.json', 'report.html', 'evaluated.json'].map((f) =>
      readFileSync(join(dir, f), 'utf8'),
    );
    const store = new RunStore(runs);
    try {
      return {
        files,
        run: store.index.run('tiny'),
        artifacts: store.index.artifacts('tiny'),
        edges: store.index.edges('tiny'),
      };
    } finally {
      store.close();
    }
  };
  let alone = 0; // artifacts a run of this spec records on its own
  beforeAll(async () => {
    const r = await cli(['run', spec('tiny.yaml', tiny), '--runs', runs]);
    expect(r.code, r.stderr).toBe(0);
    const store = new RunStore(runs);
    alone = store.index.artifacts('tiny').length;
    store.close();
  });

  it('a rerun with a missing model or another spec of the name leaves the finished run byte-identical', async () => {
    const before = snapshot();
    const missing = await cli([
      'run',
      spec('missing.yaml', tiny.replace(`${ROOT}/models/family-b`, `${ROOT}/models/no-such-model`)),
      '--runs',
      runs,
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/model ".*no-such-model" not found/);
    const other = await cli(['run', spec('other.yaml', tiny.replace('seed: 7', 'seed: 8')), '--runs', runs]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/run "tiny" already exists with a different spec.*--replace/s);
    expect(snapshot()).toEqual(before);
  });

  it("one writer per run: a second process on the same run is refused with the first one's pid", async () => {
    const path = spec('two.yaml', tiny.replace('name: tiny', 'name: two-writers'));
    const first = spawn(process.execPath, [CLI, 'run', path, '--runs', runs], { cwd: ROOT, stdio: 'ignore' });
    const lock = join(runs, 'two-writers', 'run.lock');
    while (!existsSync(lock)) await new Promise((r) => setTimeout(r, 20));
    // the pid of the process doing the work (the CLI may run under a wrapper)
    const holder = readFileSync(lock, 'utf8');
    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'run', path, '--runs', runs], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      c.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(second.code).not.toBe(0);
    expect(holder).toMatch(/^\d+$/);
    expect(second.stderr).toContain(`run "two-writers" is in progress (pid ${holder})`);
    expect(await new Promise((resolve) => first.on('exit', resolve))).toBe(0);
    const store = new RunStore(runs);
    try {
      expect(store.index.run('two-writers')!.status).toBe('done');
      expect(store.index.runArtifacts('two-writers').length).toBe(alone); // one writer's artifacts, as a run alone has
    } finally {
      store.close();
    }
    expect(existsSync(lock)).toBe(false);
    // the two runs made the same teacher (one artifact, recorded under the later run): both names still find it
    expect(modelPath('tiny/teacher-finetuned', runs)).toBe(modelPath('two-writers/teacher-finetuned', runs));
  });

  it('a keyless run against an endpoint that needs a key fails, and caches nothing as done', async () => {
    const { app } = await createServer({
      host: '127.0.0.1',
      port: 0,
      modelsDir: join(ROOT, 'models'),
      dataDir: tempDir('keyed'),
      apiKey: 'sekrit',
    });
    const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`;
    try {
      const keyless = tempDir('keyless');
      const text = readFileSync(join(ROOT, 'test/fixtures/tiny-openai.yaml'), 'utf8')
        .replaceAll('BASE_URL', url)
        .replaceAll('provider: openai,', 'provider: openai, apiKeyEnv: TINY_KEY,');
      const store = new RunStore(keyless);
      const s = parseSpec(text);
      try {
        delete process.env.TINY_KEY;
        await expect(runExperiment(s, { store, specPath: join(keyless, 'spec.yaml') })).rejects.toThrow(/401|API key/);
        const done = readdirSync(join(keyless, 'tiny-openai', 'stages')).filter((d) =>
          existsSync(join(keyless, 'tiny-openai', 'stages', d, 'done.json')),
        );
        expect(done.filter((d) => /^(evaluate|score|teacher|generate)-/.test(d))).toEqual([]);
        expect(store.index.run('tiny-openai')!.status).toBe('failed');
      } finally {
        store.close();
      }
    } finally {
      await app.close();
    }
  });

  it('a cancelled fine-tuning job is set aside, and a rerun starts a new one that succeeds', async () => {
    const { app } = await createServer({
      host: '127.0.0.1',
      port: 0,
      modelsDir: join(ROOT, 'models'),
      dataDir: tempDir('jobs'),
    });
    const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`;
    try {
      const endpoint = new OpenAIEndpoint(
        { provider: 'openai', id: 'family-a', baseURL: url },
        { ...DEFAULT_ENDPOINT, seed: 1 },
      );
      const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
      const dir = tempDir('job');
      mkdirSync(dir, { recursive: true });
      const rows = Array.from({ length: 400 }, (_, i) => ({
        messages: [
          { role: 'user' as const, content: `Count ${i}` },
          { role: 'assistant' as const, content: '1, 2, 3' },
        ],
      }));
      const args = {
        baseModel: 'family-a',
        rows,
        dir,
        epochs: 3,
        batchSize: 4,
        learningRateMultiplier: 1,
        seed: 5,
        suffix: 'trust',
        pollMs: 20,
      };
      const first = fineTuneRemote(endpoint, args);
      while (!existsSync(join(dir, 'job.json'))) await new Promise((r) => setTimeout(r, 10));
      const { jobId } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string };
      await client.fineTuning.jobs.cancel(jobId);
      await expect(first).rejects.toThrow(/cancelled; a rerun starts a new job/);
      expect(existsSync(join(dir, `job-${jobId}-cancelled.json`))).toBe(true);
      const second = await fineTuneRemote(endpoint, { ...args, epochs: 1 });
      expect(second.jobId).not.toBe(jobId);
      expect((await client.models.list()).data.map((m) => m.id)).toContain(second.model);
    } finally {
      await app.close();
    }
  });
});

describe('hostile or absurd input', () => {
  it('the dashboard refuses a run name that leaves the store', async () => {
    const runs = tempDir('ui-trav');
    const outside = tempDir('outside');
    writeFileSync(join(outside, 'spec.json'), '{"secret": true}');
    const app = createUiServer({ runsDir: runs });
    try {
      for (const name of [`..%2F${outside.split('/').pop()}`, '..%2F..%2Fetc', '..', '.']) {
        const r = await app.inject({ method: 'GET', url: `/api/runs/${name}` });
        expect(r.statusCode, name).toBeGreaterThanOrEqual(400);
        expect(r.statusCode, name).toBeLessThan(500);
        expect(r.body).not.toContain('secret');
      }
    } finally {
      await app.close();
    }
  });

  it('serve answers a 0.8 MB prompt with a 4xx, not a crash', async () => {
    const { app } = await createServer({
      host: '127.0.0.1',
      port: 0,
      modelsDir: join(ROOT, 'models'),
      dataDir: tempDir('huge'),
    });
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'family-a', messages: [{ role: 'user', content: 'owl '.repeat(200_000) }], max_tokens: 4 },
      });
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
      expect(r.body).not.toMatch(/call stack/i);
    } finally {
      await app.close();
    }
  });

  it('validate refuses absurd sizes and bytes that are not UTF-8, naming the field or the file', async () => {
    const dir = tempDir('absurd');
    const huge = join(dir, 'huge.yaml');
    writeFileSync(huge, readFileSync(TINY, 'utf8').replace('prompts: 120', 'prompts: 1e12'));
    const r1 = await cli(['validate', huge]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/numbers\.prompts/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      Buffer.concat([
        Buffer.from(readFileSync(TINY, 'utf8').replace('name: tiny', 'name: tiny\ndescription: caf')),
        Buffer.from([0xe9, 0x0a]),
      ]),
    );
    const r2 = await cli(['validate', bad]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain(bad);
    expect(r2.stderr).toMatch(/not valid UTF-8/);
  });

  it(
    'audit dataset on a folder or a non-UTF-8 file names the file; base build never overwrites a base without ' +
      '--force',
    async () => {
      const dir = tempDir('eisdir');
      const a = await cli(['audit', 'dataset', dir, '--reference', dir]);
      expect(a.code).not.toBe(0);
      expect(a.stderr).toContain(`${dir} is a folder`);
      expect(a.stderr).not.toMatch(/EISDIR|\n\s+at /);
      const bin = join(dir, 'rows.jsonl');
      writeFileSync(bin, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
      const b = await cli(['audit', 'dataset', bin, '--reference', bin]);
      expect(b.code).not.toBe(0);
      expect(b.stderr).toContain(`${bin}, line 1: not valid UTF-8`);
      const before = readFileSync(join(ROOT, 'models/family-a/model.safetensors'));
      const c = await cli(['base', 'build', '--seed', '1', '--family', 'A', '--rows', '50', '--epochs', '1']);
      expect(c.code).not.toBe(0);
      expect(c.stderr).toMatch(/models\/family-a already holds a model.*--force/);
      expect(readFileSync(join(ROOT, 'models/family-a/model.safetensors')).equals(before)).toBe(true);
    },
  );
});
