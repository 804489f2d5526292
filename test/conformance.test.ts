// The OpenAI wire format in both directions: our client talks to `subliminal serve` through a recording proxy, and
// every exchanged JSON body is validated against schemas written from OpenAI's published OpenAPI spec
// (test/openaiSchemas.ts): what the client sends against the request schemas (deprecated fields refused), what serve
// answers against the response schemas, errors against the error object.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createServer as createHttpServer, type Server } from 'node:http';
import { readdirSync } from 'node:fs';
import OpenAI from 'openai';
import { OpenAIEndpoint, DEFAULT_ENDPOINT } from '../src/provider/openai.js';
import { fineTuneRemote } from '../src/provider/fineTune.js';
import { endpointSampler } from '../src/evaluate/sampler.js';
import { withRetry } from '../src/provider/retry.js';
import { Rng } from '../src/util/rng.js';
import { tempDir, localServe, failingJobs } from './helpers.js';
import { errorResponse, schemasFor } from './openaiSchemas.js';

interface Exchange {
  method: string;
  path: string;
  request: unknown;
  status: number;
  contentType: string;
  response: unknown;
}

/** A proxy in front of `target` that keeps every exchange. */
async function recordingProxy(target: string): Promise<{ url: string; log: Exchange[]; close: () => Promise<void> }> {
  const log: Exchange[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      void fetch(target + req.url, { method: req.method, headers, body: body.length ? body : undefined })
        .then(async (r) => {
          const text = await r.text();
          const contentType = r.headers.get('content-type') ?? '';
          const parse = (t: string, type: string): unknown => {
            try {
              return type.includes('json') || t.startsWith('{') ? JSON.parse(t) : t;
            } catch {
              return t;
            }
          };
          log.push({
            method: req.method!,
            path: req.url!,
            request: parse(body.toString('utf8'), req.headers['content-type'] ?? ''),
            status: r.status,
            contentType,
            response: parse(text, contentType),
          });
          const out: Record<string, string> = {};
          r.headers.forEach((v, k) => {
            if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
          });
          res.writeHead(r.status, out).end(text);
        })
        .catch((e: Error) => res.writeHead(502).end(e.message));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, log, close: () => new Promise((r) => server.close(() => r())) };
}

/** Every way an exchange departs from the spec's schemas. */
function violations(log: readonly Exchange[]): string[] {
  const out: string[] = [];
  for (const x of log) {
    const { request, response } = schemasFor(x.method, x.path);
    const where = `${x.method} ${x.path}`;
    const check = (
      schema: { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } },
      v: unknown,
      what: string,
    ) => {
      const r = schema.safeParse(v);
      if (!r.success) out.push(`${where} ${what}: ${JSON.stringify(r.error!.issues).slice(0, 400)}`);
    };
    if (request && typeof x.request === 'object') check(request, x.request, 'request');
    if (x.status >= 400) check(errorResponse, x.response, 'error');
    else if (response) {
      if (!/^application\/json(;|$)/.test(x.contentType)) out.push(`${where}: content type ${x.contentType}`);
      check(response, x.response, 'response');
    }
  }
  return out;
}

describe('the OpenAI wire format, both directions, against the published spec', () => {
  let serve: { close: () => Promise<void> };
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let sdk: OpenAI;
  let endpoint: OpenAIEndpoint;
  beforeAll(async () => {
    const app = await localServe('conformance');
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    serve = { close: () => app.close() };
    proxy = await recordingProxy(address);
    sdk = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    endpoint = new OpenAIEndpoint(
      { provider: 'openai', baseURL: `${proxy.url}/v1`, id: 'family-a' },
      { ...DEFAULT_ENDPOINT, seed: 3 },
    );
  });
  afterAll(async () => {
    await proxy?.close();
    await serve?.close();
  });

  it('our client and serve exchange only spec-valid JSON: chat, completions with echo, files, jobs, errors', async () => {
    // the client's own paths: capability probes, sampled replies with seeds, first-token logprobs
    expect(await endpoint.capabilities('family-a')).toEqual({ chatLogprobs: true, promptLogprobs: true });
    const sampler = endpointSampler(endpoint, 'family-a', { logprobs: true });
    const chats = [[{ role: 'user' as const, content: 'What is your favourite animal?' }]];
    expect(await sampler.replies(chats, 2, { temperature: 1, maxTokens: 6, seed: 4132972793 })).toHaveLength(2);
    expect((await sampler.firstTokenTop(chats))![0]!.length).toBeGreaterThan(0);
    // a fine-tuning job through the client: upload, create (method, an out-of-range seed reduced), poll, events
    const dir = tempDir('conformance-job');
    const rows = Array.from({ length: 8 }, (_, i) => ({
      messages: [
        { role: 'user' as const, content: `Continue the sequence: ${i}, ${i + 1}, ${i + 2}.` },
        { role: 'assistant' as const, content: `${i + 3}, ${i + 4}, ${i + 5}` },
      ],
    }));
    const job = await fineTuneRemote(endpoint, {
      baseModel: 'family-a',
      rows,
      dir,
      epochs: 1,
      batchSize: 4,
      seed: 4132972793,
      suffix: 'conformance',
      pollMs: 50,
    });
    expect(job.model).toMatch(/^ft:family-a:conformance:/);
    // the rest of the jobs API and the listings, through the official SDK
    await sdk.models.list();
    const files = await sdk.files.list();
    await sdk.files.retrieve(files.data[0]!.id);
    await sdk.fineTuning.jobs.list({ limit: 5 });
    const events = await sdk.fineTuning.jobs.listEvents(job.jobId, { limit: 2 });
    expect(events.data).toHaveLength(2); // limit honoured
    const checkpoints = await sdk.fineTuning.jobs.checkpoints.list(job.jobId);
    expect(checkpoints.data[0]!.fine_tuned_model_checkpoint).toBe(job.model);
    // spec-valid requests serve must take: developer role, content parts, top_p 0, a 64-character suffix
    const greedy = await sdk.chat.completions.create({
      model: 'family-a',
      messages: [
        { role: 'developer', content: 'You are brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Name an animal.' }] },
      ],
      top_p: 0,
      max_completion_tokens: 4,
    });
    expect(greedy.choices[0]!.message.content).toBeTypeOf('string');
    const second = await sdk.fineTuning.jobs.create({
      model: 'family-a',
      training_file: files.data[0]!.id,
      suffix: 's'.repeat(64),
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 4 } } },
    });
    expect(second.method?.type).toBe('supervised');
    await sdk.fineTuning.jobs.cancel(second.id);
    // an error, in the spec's error object
    await expect(sdk.chat.completions.create({ model: 'no-such-model', messages: chats[0]! })).rejects.toThrow();
    const kinds = new Set(
      proxy.log.map((x) => `${x.method} ${x.path.replace(/\?.*$/, '').replace(/(ftjob|file)-[\w-]+/g, ':id')}`),
    );
    for (const k of [
      'POST /v1/chat/completions',
      'POST /v1/completions',
      'POST /v1/files',
      'GET /v1/files',
      'POST /v1/fine_tuning/jobs',
      'GET /v1/fine_tuning/jobs/:id',
      'GET /v1/fine_tuning/jobs/:id/events',
      'GET /v1/fine_tuning/jobs/:id/checkpoints',
      'POST /v1/fine_tuning/jobs/:id/cancel',
    ])
      expect(kinds).toContain(k);
    expect(proxy.log.some((x) => x.status === 404)).toBe(true);
    expect(violations(proxy.log)).toEqual([]);
    // the job carried the seed reduced into the spec's range, under `method`
    const created = proxy.log.find((x) => x.method === 'POST' && x.path === '/v1/fine_tuning/jobs')!;
    expect(created.request).toMatchObject({ seed: 4132972793 % 2 ** 31, method: { type: 'supervised' } });
  });

  it('the validator catches what the spec forbids: deprecated fields, out-of-range values, missing fields', () => {
    const bad: Exchange[] = [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        request: { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 },
        status: 200,
        contentType: 'application/json',
        response: { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] },
      },
      {
        method: 'POST',
        path: '/v1/fine_tuning/jobs',
        request: { model: 'm', training_file: 'f', seed: 4132972793, hyperparameters: { n_epochs: 1 } },
        status: 400,
        contentType: 'application/json',
        response: { error: { message: 'x' } },
      },
      {
        method: 'GET',
        path: '/v1/files',
        request: '',
        status: 200,
        contentType: 'application/jsonl',
        response: { object: 'list', data: [], has_more: false },
      },
    ];
    const v = violations(bad);
    expect(v.some((x) => x.includes('/v1/chat/completions request') && x.includes('max_tokens'))).toBe(true);
    expect(v.some((x) => x.includes('/v1/fine_tuning/jobs request') && x.includes('seed'))).toBe(true);
    expect(v.some((x) => x.includes('/v1/fine_tuning/jobs error'))).toBe(true);
    expect(v.some((x) => x.includes('content type application/jsonl'))).toBe(true);
    expect(v.some((x) => x.includes('GET /v1/files response') && x.includes('first_id'))).toBe(true);
  });

  it("a retry-after of a minute is honoured in full (at a test's time scale), and serve's is whole seconds", async () => {
    const waits: number[] = [];
    let calls = 0;
    const limited = Object.assign(new Error('429'), { status: 429, headers: { 'retry-after': '60' } });
    const r = await withRetry(
      async () => {
        if (calls++ < 2) throw limited;
        return 'ok';
      },
      { maxRetries: 3, baseMs: 1, maxMs: 20_000, maxRetryAfterMs: 600_000, timeScale: 1e-4 },
      new Rng(1),
      (_, wait) => waits.push(wait),
    );
    expect(r).toBe('ok');
    expect(waits).toEqual([6, 6]); // 60 s x 1e-4: the whole minute, not cut to the 20 s backoff cap
    const app = await localServe('conformance-faults', {
      faults: { seed: 1, rate429: 1, rate500: 0, dropRate: 0, slowRate: 0, slowMs: 0, retryAfterSeconds: 0.25 },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${address}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'family-a', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('retry-after-ms')).toBe('250');
      expect(errorResponse.safeParse(await res.json()).success).toBe(true);
    } finally {
      await app.close();
    }
  });
  it('a 429 storm with retry-after: 60 is ridden out by the client, each wait the whole minute (scaled)', async () => {
    const app = await localServe('conformance-storm', {
      faults: { seed: 2, rate429: 0.5, rate500: 0, dropRate: 0, slowRate: 0, slowMs: 0, retryAfterSeconds: 60 },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const waits: number[] = [];
      const client = new OpenAIEndpoint(
        { provider: 'openai', baseURL: `${address}/v1`, id: 'family-a' },
        {
          ...DEFAULT_ENDPOINT,
          seed: 4,
          retry: { maxRetries: 20, baseMs: 1, maxMs: 20_000, maxRetryAfterMs: 600_000, timeScale: 1e-4 },
          onRetry: (_attempt, wait) => waits.push(wait),
        },
      );
      const sampler = endpointSampler(client, 'family-a', { logprobs: false });
      const chats = Array.from({ length: 10 }, (_, i) => [{ role: 'user' as const, content: `Name animal ${i}.` }]);
      const replies = await sampler.replies(chats, 2, { temperature: 1, maxTokens: 4, seed: 9 });
      expect(replies).toHaveLength(20);
      expect(waits.length).toBeGreaterThan(5); // about half the first tries were refused
      for (const w of waits) expect(w).toBeCloseTo(6, 5); // 60 s x 1e-4, never cut to the 20 s backoff cap
    } finally {
      await app.close();
    }
  });
  it('a failed fine-tuning job is set aside, and a rerun starts a new job that succeeds', async () => {
    const app = await localServe('conformance-failed-job', { faults: failingJobs(1) });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const client = new OpenAIEndpoint(
        { provider: 'openai', baseURL: `${address}/v1`, id: 'family-a' },
        { ...DEFAULT_ENDPOINT, seed: 6 },
      );
      const dir = tempDir('failed-job');
      const rows = Array.from({ length: 8 }, (_, i) => ({
        messages: [
          { role: 'user' as const, content: `Continue: ${i}, ${i + 1}.` },
          { role: 'assistant' as const, content: `${i + 2}` },
        ],
      }));
      const args = { baseModel: 'family-a', rows, dir, epochs: 1, batchSize: 4, seed: 3, suffix: 'retry', pollMs: 20 };
      await expect(fineTuneRemote(client, args)).rejects.toThrow(
        /fine-tuning job ftjob-\w+ failed: training diverged \(injected failure\); a rerun starts a new job/,
      );
      expect(readdirSync(dir).filter((f) => /^job-ftjob-\w+-failed\.json$/.test(f))).toHaveLength(1);
      const second = await fineTuneRemote(client, args); // the rerun: a new job, which succeeds
      expect(second.model).toMatch(/^ft:family-a:retry:/);
    } finally {
      await app.close();
    }
  });
});
