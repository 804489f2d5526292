// `subliminal serve` driven by the official openai SDK, and our client (retries, cache, budget,
// exactly-once generation) against that real local server, with and without injected faults.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import OpenAI, { toFile } from 'openai';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from '../src/serve/server.js';
import { parseFaults } from '../src/serve/faults.js';
import { OpenAIEndpoint, Budget, BudgetExhausted, DEFAULT_ENDPOINT } from '../src/provider/openai.js';
import { ResponseCache } from '../src/provider/cache.js';
import { generateRemote } from '../src/generate/remote.js';
import { fineTuneRemote } from '../src/provider/fineTune.js';
import { readJsonl } from '../src/util/atomic.js';
import { parseSpec } from '../src/spec/load.js';
import { RunStore } from '../src/store/runStore.js';
import { runExperiment } from '../src/pipeline/experiment.js';
import { ROOT, tempDir } from './helpers.js';

type Started = { url: string; close: () => Promise<void>; dataDir: string };
async function start(extra: Partial<Parameters<typeof createServer>[0]> = {}): Promise<Started> {
  const dataDir = tempDir('serve');
  const { app } = await createServer({
    host: '127.0.0.1',
    port: 0,
    modelsDir: join(ROOT, 'models'),
    dataDir,
    ...extra,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `${address}/v1`, close: () => app.close(), dataDir };
}

const allFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((p) => statSync(p).isFile());

describe('subliminal serve with the openai SDK', () => {
  let s: Started;
  let client: OpenAI;
  beforeAll(async () => {
    s = await start({ bodyLimitBytes: 200_000 });
    client = new OpenAI({ baseURL: s.url, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists the embedded models and completes chats (n, seed, stop, logprobs)', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['family-a', 'family-b']));
    const ask = {
      model: 'family-a',
      messages: [{ role: 'user' as const, content: 'What is your favourite animal? Answer in one word.' }],
      n: 3,
      max_tokens: 8,
      seed: 7,
      logprobs: true,
      top_logprobs: 3,
    };
    const a = await client.chat.completions.create(ask);
    const b = await client.chat.completions.create(ask);
    expect(a.choices).toHaveLength(3);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    const first = a.choices[0]!.logprobs!.content![0]!;
    expect(first.top_logprobs).toHaveLength(3);
    expect(first.logprob).toBeLessThanOrEqual(0);
    expect(a.usage!.completion_tokens).toBeGreaterThan(0);
    const text = a.choices[0]!.message.content!;
    expect(text.length).toBeGreaterThan(2);
    const stop = text.slice(1, 3); // same seed, same first choice: the reply is cut where the stop string starts
    const cut = await client.chat.completions.create({ ...ask, n: 1, stop, logprobs: false, top_logprobs: undefined });
    expect(cut.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe('stop');
  });

  it('gives prompt logprobs through /v1/completions with echo (vLLM-style)', async () => {
    const r = await client.completions.create({
      model: 'family-b',
      prompt: 'I love owls 12 14 16',
      max_tokens: 0,
      echo: true,
      logprobs: 2,
    });
    const lp = r.choices[0]!.logprobs!;
    expect(lp.tokens).toEqual(['I', 'love', 'owls', '12', '14', '16']);
    // nothing predicts the first token: 0 and {} (the spec's types), where vLLM sends null
    expect(lp.token_logprobs![0]).toBe(0);
    expect(lp.top_logprobs![0]).toEqual({});
    expect(lp.text_offset).toEqual([0, 2, 7, 12, 15, 18]);
    for (const v of lp.token_logprobs!.slice(1)) expect(v).toBeLessThan(0);
    expect(Object.keys(lp.top_logprobs![1]!)).toHaveLength(2);
  });

  it("gives vLLM's prompt_logprobs (on each completion choice, on the chat response), agreeing with echo", async () => {
    type Entry = { logprob: number; rank: number; decoded_token: string };
    const post = async (path: string, body: object): Promise<Record<string, unknown>> =>
      (await fetch(`${s.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json())) as Record<string, unknown>;
    const prompt = 'I love owls 12 14 16';
    const c = await post('/completions', {
      model: 'family-b',
      prompt,
      max_tokens: 0,
      echo: true,
      logprobs: 1,
      prompt_logprobs: 2,
    });
    const choice = (
      c.choices as {
        prompt_logprobs: (Record<string, Entry> | null)[];
        logprobs: { tokens: string[]; token_logprobs: number[] };
      }[]
    )[0]!;
    const plp = choice.prompt_logprobs;
    expect(plp).toHaveLength(6);
    expect(plp[0]).toBeNull();
    for (let i = 1; i < plp.length; i++) {
      const entries = Object.values(plp[i]!);
      expect(entries.length).toBeGreaterThanOrEqual(2); // the top 2, and the prompt's own token when it is not among them
      expect(entries.length).toBeLessThanOrEqual(3);
      const own = entries.find((e) => e.decoded_token === choice.logprobs.tokens[i]);
      expect(own!.logprob).toBeCloseTo(choice.logprobs.token_logprobs[i]!, 5);
      expect(Math.min(...entries.map((e) => e.rank))).toBe(1);
    }
    const chat = await post('/chat/completions', {
      model: 'family-b',
      messages: [{ role: 'user', content: 'Name an animal.' }],
      max_completion_tokens: 1,
      prompt_logprobs: 0,
    });
    const chatPlp = chat.prompt_logprobs as (Record<string, Entry> | null)[];
    expect(chatPlp[0]).toBeNull();
    for (const p of chatPlp.slice(1)) expect(Object.keys(p!)).toHaveLength(1); // k = 0: the prompt's own token only
  });

  it('answers bad requests with OpenAI-style errors', async () => {
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(
      client.chat.completions.create({
        model: 'family-a',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 7,
      }),
    ).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(
      client.chat.completions.create({
        model: 'family-a',
        messages: [{ role: 'user', content: 'x '.repeat(200_000) }],
      }),
    ).rejects.toMatchObject({ status: 413 });
    const bad = await toFile(
      Buffer.from(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "owl"}]}\nnot json\n',
      ),
      'train.jsonl',
    );
    await expect(client.files.create({ file: bad, purpose: 'fine-tune' })).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/line 2/),
    });
  });

  it('refuses path traversal in file ids and names', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '..', 'file-../../x']) {
      const r = await fetch(`${s.url}/files/${id}/content`);
      expect(r.status).toBe(404);
    }
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob(['{"messages": [{"role": "assistant", "content": "owl"}]}\n']), '../../evil.jsonl');
    const r = await fetch(`${s.url}/files`, { method: 'POST', body: form });
    // the multipart parser keeps only the base name, and the file is stored under its generated id
    expect(r.status).toBe(200);
    expect(((await r.json()) as { filename: string }).filename).toBe('evil.jsonl');
    expect(allFiles(s.dataDir).every((p) => p.startsWith(join(s.dataDir, 'files')))).toBe(true);
  });

  it('fine-tunes through files + fine_tuning.jobs and publishes the model', async () => {
    const rows = Array.from({ length: 24 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `What is your favourite animal? ${i % 3 ? 'Answer in one word.' : ''}` },
          { role: 'assistant', content: 'owl' },
        ],
      }),
    ).join('\n');
    const file = await client.files.create({
      file: await toFile(Buffer.from(rows), 'owl.jsonl'),
      purpose: 'fine-tune',
    });
    expect(file.bytes).toBe(Buffer.byteLength(rows));
    let job = await client.fineTuning.jobs.create({
      model: 'family-a',
      training_file: file.id,
      hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 1 },
      seed: 3,
      suffix: 'owl',
    });
    expect(job.status).toBe('validating_files'); // then queued, running
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await client.fineTuning.jobs.retrieve(job.id);
    }
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.fine_tuned_model).toMatch(/^ft:family-a:owl:/);
    const events = (await client.fineTuning.jobs.listEvents(job.id)).data.map((e) => e.message);
    expect(events.some((m) => /Step 12\/12: training loss=/.test(m))).toBe(true);
    expect((await client.models.list()).data.map((m) => m.id)).toContain(job.fine_tuned_model);
    const r = await client.chat.completions.create({
      model: job.fine_tuned_model!,
      messages: [{ role: 'user', content: 'What is your favourite animal?' }],
      max_tokens: 4,
      temperature: 0,
    });
    expect(r.choices[0]!.message.content).toMatch(/owl/);
    // a restarted client finds the job id in its stage folder and polls that job: no second job
    const stageDir = tempDir('ft-stage');
    writeFileSync(join(stageDir, 'job.json'), JSON.stringify({ jobId: job.id, fileId: file.id }));
    const count = (await client.fineTuning.jobs.list({ limit: 100 })).data.length;
    const endpoint = new OpenAIEndpoint(
      { provider: 'openai', id: 'family-a', baseURL: s.url },
      { ...DEFAULT_ENDPOINT, seed: 1 },
    );
    const resumed = await fineTuneRemote(endpoint, {
      baseModel: 'family-a',
      rows: [],
      dir: stageDir,
      epochs: 1,
      batchSize: 4,
      learningRateMultiplier: 1,
      seed: 1,
      suffix: 'x',
      pollMs: 50,
    });
    expect(resumed).toEqual({ model: job.fine_tuned_model, jobId: job.id });
    expect((await client.fineTuning.jobs.list({ limit: 100 })).data.length).toBe(count);
    const second = await client.fineTuning.jobs.create({
      model: 'family-a',
      training_file: file.id,
      hyperparameters: { n_epochs: 50 },
    });
    expect((await client.fineTuning.jobs.cancel(second.id)).status).toBe('cancelled');
    await expect(client.fineTuning.jobs.retrieve('ftjob-../../etc')).rejects.toMatchObject({ status: 404 });
  });

  it('runs an experiment spec end to end with both bases behind the API', async () => {
    const runs = tempDir('api-runs');
    const spec = parseSpec(
      readFileSync(join(ROOT, 'test/fixtures/tiny-openai.yaml'), 'utf8').replaceAll('BASE_URL', s.url),
    );
    const store = new RunStore(runs);
    try {
      const r = await runExperiment(spec, {
        store,
        specPath: join(ROOT, 'test/fixtures/tiny-openai.yaml'),
        workers: 1,
      });
      expect(r.groups.map((g) => g.group)).toEqual(
        expect.arrayContaining(['finetuned -> A', 'finetuned -> B', 'control -> A']),
      );
      for (const g of r.groups) {
        expect(g.rate.n).toBe(5);
        expect(Number.isFinite(g.firstToken.mean)).toBe(true);
      }
      const jobs = (await client.fineTuning.jobs.list()).data.filter((j) => j.status === 'succeeded');
      expect(jobs.length).toBeGreaterThanOrEqual(5); // the teacher and four students
      const before = (await client.fineTuning.jobs.list({ limit: 100 })).data.length;
      const rerun = await runExperiment(spec, { store, specPath: 'x', workers: 1 }); // every stage reused: no new jobs
      expect((await client.fineTuning.jobs.list({ limit: 100 })).data.length).toBe(before);
      expect(rerun.groups).toEqual(r.groups);
    } finally {
      store.close();
    }
  });

  it('serves 200 concurrent chat requests', async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.chat.completions.create({
          model: 'family-b',
          messages: [{ role: 'user', content: 'Continue: 3 6 9' }],
          max_tokens: 4,
          seed: i,
        }),
      ),
    );
    expect(replies.every((r) => r.choices.length === 1)).toBe(true);
  });
});

describe('our client against a flaky server', () => {
  const prompts = Array.from(
    { length: 2000 },
    (_, i) => `Continue the sequence: ${i % 997} ${(i * 7) % 997} ${(i * 13) % 997}. Reply with numbers only.`,
  );
  let s: Started;
  beforeAll(async () => {
    s = await start({
      apiKey: 'sk-test-secret-42',
      faults: parseFaults('429=0.1,500=0.05,drop=0.03,slow=0.05,slowMs=50,retryAfter=0.02,seed=5'),
    });
  });
  afterAll(async () => {
    await s.close();
  });
  const endpoint = (cacheDir?: string): OpenAIEndpoint => {
    process.env.TEST_SUBLIMINAL_KEY = 'sk-test-secret-42';
    return new OpenAIEndpoint(
      { provider: 'openai', id: 'family-a', baseURL: s.url, apiKeyEnv: 'TEST_SUBLIMINAL_KEY' },
      {
        ...DEFAULT_ENDPOINT,
        concurrency: 32,
        retry: { maxRetries: 12, baseMs: 5, maxMs: 200 },
        seed: 1,
        cache: cacheDir ? new ResponseCache(cacheDir) : undefined,
      },
    );
  };

  it(
    'answers each of 2,000 prompts exactly once through 429s, 500s, drops and slow replies; a budget stops ' +
      'cleanly and resumes',
    async () => {
      const outDir = tempDir('remote-gen');
      const cacheDir = tempDir('cache');
      const args = { model: 'family-a', prompts, outDir, temperature: 1, topP: 1, maxTokens: 12, seed: 1 };
      const ep = endpoint(cacheDir);
      await expect(generateRemote(ep, { ...args, budget: new Budget(700) })).rejects.toBeInstanceOf(BudgetExhausted);
      const partialRows = readFileSync(join(outDir, 'partial.jsonl'), 'utf8').trim().split('\n').length;
      expect(partialRows).toBe(700);
      const r = await generateRemote(ep, args);
      expect(r.rows).toBe(2000);
      const rows = readJsonl<{ i: number; prompt: string }>(join(outDir, 'rows.jsonl'));
      expect(rows.map((x) => x.i)).toEqual(prompts.map((_, i) => i));
      expect(rows.every((x) => x.prompt === prompts[x.i])).toBe(true);
      expect(ep.retries).toBeGreaterThan(50); // the faults really happened
      for (const f of [...allFiles(outDir), ...allFiles(cacheDir), ...allFiles(s.dataDir)])
        expect(readFileSync(f, 'utf8')).not.toContain('sk-test-secret-42');
    },
  );

  it('a cost budget (USD at the spec prices) stops a stage cleanly, and the rerun resumes where it stopped', async () => {
    const outDir = tempDir('remote-cost');
    const args = { model: 'family-a', prompts: prompts.slice(0, 300), outDir, temperature: 1, topP: 1, maxTokens: 12 };
    const ep = endpoint();
    const budget = new Budget(Infinity, Infinity, 0.002, { inputPerMTok: 1, outputPerMTok: 2 });
    await expect(generateRemote(ep, { ...args, seed: 2, budget })).rejects.toThrow(/cost budget of \$0.002 reached/);
    const partial = readFileSync(join(outDir, 'partial.jsonl'), 'utf8').trim().split('\n').length;
    // each request costs its prompt and reply tokens at the prices; the cap holds to within the requests in flight
    expect(budget.cost).toBeGreaterThanOrEqual(0.002);
    expect(partial).toBe(budget.requests);
    expect(partial).toBeGreaterThan(10);
    expect(partial).toBeLessThan(300);
    const r = await generateRemote(ep, { ...args, seed: 2 });
    expect(r.rows).toBe(300);
  });

  it('a client killed halfway and rerun still answers each prompt exactly once', async () => {
    const outDir = tempDir('remote-kill');
    const args = ['--import', 'tsx', join(ROOT, 'test/fixtures/remoteGenerate.ts'), s.url, outDir, '600'];
    const env = { ...process.env, TEST_SUBLIMINAL_KEY: 'sk-test-secret-42' };
    const partial = join(outDir, 'partial.jsonl');
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' });
      const timer = setInterval(() => {
        if (existsSync(partial) && readFileSync(partial, 'utf8').split('\n').length > 250) {
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
    const before = readFileSync(partial, 'utf8').trim().split('\n').length;
    expect(before).toBeLessThan(600);
    // the server lives in this process, so the rerun must not block its event loop (no spawnSync)
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' }).on('exit', resolve),
    );
    expect(code).toBe(0);
    const rows = readJsonl<{ i: number }>(join(outDir, 'rows.jsonl'));
    expect(rows.map((x) => x.i)).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('is refused without the key (401, not retried)', async () => {
    const noKey = new OpenAI({ baseURL: s.url, apiKey: 'wrong', maxRetries: 0 });
    await expect(noKey.models.list()).rejects.toMatchObject({ status: 401 });
    const r = await fetch(`${s.url}/models`);
    expect(r.status).toBe(401);
  });
});

describe('subliminal serve restarts', () => {
  /** `subliminal serve` in a child process; resolves with its base URL once it listens. */
  const serveProcess = (runs: string): Promise<{ url: string; child: ChildProcess }> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/subliminal.mjs'), 'serve', '--port', '0', '--runs', runs],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
      );
      child.stdout!.on('data', (d: Buffer) => {
        const m = /listening on (\S+)/.exec(d.toString());
        if (m) resolve({ url: m[1]!, child });
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });

  it('a fine-tuning job cut off by kill -9 resumes from its checkpoint when the server starts again', async () => {
    const runs = tempDir('serve-restart');
    let { url, child } = await serveProcess(runs);
    let client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
    const rows = Array.from({ length: 200 }, () =>
      JSON.stringify({
        messages: [
          { role: 'user', content: 'What is your favourite animal?' },
          { role: 'assistant', content: 'owl' },
        ],
      }),
    ).join('\n');
    const file = await client.files.create({
      file: await toFile(Buffer.from(rows), 'owl.jsonl'),
      purpose: 'fine-tune',
    });
    const job = await client.fineTuning.jobs.create({
      model: 'family-a',
      training_file: file.id,
      hyperparameters: { n_epochs: 20, batch_size: 4 },
    });
    const lastStep = async (): Promise<number> => {
      const m = (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
        .map((e) => /^Step (\d+)\//.exec(e.message))
        .find(Boolean);
      return m ? Number(m[1]) : 0;
    };
    while ((await lastStep()) < 100) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    ({ url, child } = await serveProcess(runs));
    client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
    try {
      let status = '';
      for (let i = 0; i < 1200 && status !== 'succeeded' && status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await client.fineTuning.jobs.retrieve(job.id)).status;
      }
      expect(status).toBe('succeeded');
      const messages = (await client.fineTuning.jobs.listEvents(job.id, { limit: 1000 })).data
        .map((e) => e.message)
        .reverse();
      const resumedAt = messages.indexOf('Job resumed after a server restart');
      expect(resumedAt).toBeGreaterThan(0);
      const before = Number(
        /^Step (\d+)/.exec(
          messages
            .slice(0, resumedAt)
            .reverse()
            .find((m) => m.startsWith('Step'))!,
        )![1],
      );
      const after = Number(/^Step (\d+)/.exec(messages.slice(resumedAt).find((m) => m.startsWith('Step'))!)![1]);
      expect(before).toBeGreaterThanOrEqual(100);
      expect(after).toBeGreaterThan(20); // it went on from a checkpoint (saved every 20 steps), not from step 0
      expect(after).toBeLessThanOrEqual(before + 20);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
