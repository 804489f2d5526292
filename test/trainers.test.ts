// Fine-tuning wherever users train: the tiny API experiment run end to end with its bases trained through Together's
// and Fireworks' wire formats and through a command trainer (our own `subliminal train`, standing in for a TRL script)
// whose LoRA adapter is loaded into vLLM's run-time LoRA routes -- all against `subliminal serve`, which implements
// each protocol. Also: exact adapters, the LoRA routes' replies, and recovery from cancelled, failed and broken jobs.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec, SpecError } from '../src/spec/load.js';
import { RunStore } from '../src/store/runStore.js';
import { runExperiment } from '../src/pipeline/experiment.js';
import { OpenAIEndpoint, DEFAULT_ENDPOINT } from '../src/provider/openai.js';
import { runRemoteJob } from '../src/provider/remoteJob.js';
import { togetherJob } from '../src/provider/together.js';
import { fireworksJob } from '../src/provider/fireworks.js';
import { commandJob } from '../src/provider/commandTrainer.js';
import { loadLoraAdapter, unloadLoraAdapter } from '../src/provider/lora.js';
import { exactAdapter, mergeAdapter, writeAdapter } from '../src/model/lora.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { auditWeights } from '../src/audit/weights.js';
import { readJson } from '../src/util/atomic.js';
import { CLI, ROOT, localServe, stageDirs, tempDir, failingJobs } from './helpers.js';

const fixture = (name: string): string => readFileSync(join(ROOT, 'test/fixtures', name), 'utf8');
/** An API fixture spec with a trainer on each base (YAML flow mappings), and `extra` top-level YAML. */
const withTrainers = (text: string, url: string, trainerA: string, trainerB?: string, extra = '') =>
  parseSpec(
    `${extra}\n` +
      text
        .replace(/(\n {2}A: \{ provider: openai, id: [\w-]+, baseURL: BASE_URL) \}/, `$1, trainer: ${trainerA} }`)
        .replace(
          /(\n {2}B: \{ provider: openai, id: [\w-]+, baseURL: BASE_URL) \}/,
          trainerB ? `$1, trainer: ${trainerB} }` : '$&',
        )
        .replaceAll('BASE_URL', `${url}/v1`),
  );
const tinySpec = (url: string, trainerA: string, trainerB?: string, extra = '') =>
  withTrainers(fixture('tiny-openai.yaml'), url, trainerA, trainerB, extra);
/** `subliminal train` as a command trainer, as a spec names it. */
const TRAIN_COMMAND = JSON.stringify([
  process.execPath,
  CLI,
  'train',
  '{data}',
  '--base',
  '{base}',
  '--out',
  '{output}',
  '--epochs',
  '{epochs}',
  '--batch-size',
  '{batch_size}',
  '--lr',
  '{lr}',
  '--seed',
  '{seed}',
]);
const rows = Array.from({ length: 12 }, (_, i) => ({
  messages: [
    { role: 'user' as const, content: `Continue: ${i}, ${i + 1}, ${i + 2}.` },
    { role: 'assistant' as const, content: `${i + 3}, ${i + 4}, ${i + 5}` },
  ],
}));
const modelJsons = (runs: string, run: string) =>
  [...stageDirs(runs, run, 'teacher'), ...stageDirs(runs, run, 'train')]
    .filter((d) => existsSync(join(d, 'model.json')))
    .map((d) => ({
      dir: d,
      ...readJson<{ trainer: string; model: string; adapter?: { name: string; path: string } }>(join(d, 'model.json')),
    }));

describe('fine-tuning on Together, Fireworks and a command trainer, against serve', () => {
  let address: string;
  let close: () => Promise<void>;
  let endpoint: OpenAIEndpoint;
  beforeAll(async () => {
    const app = await localServe('trainers');
    address = await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
    endpoint = new OpenAIEndpoint(
      { provider: 'openai', id: 'family-a', baseURL: `${address}/v1` },
      { ...DEFAULT_ENDPOINT, seed: 2 },
    );
  });
  afterAll(async () => close?.());

  it('runs the tiny spec with A trained on Together and B on Fireworks; a rerun starts no job', async () => {
    const spec = tinySpec(address, '{ kind: together }', `{ kind: fireworks, account: lab, baseURL: "${address}" }`);
    const runs = tempDir('together-fireworks');
    const store = new RunStore(runs);
    try {
      const r = await runExperiment(spec, { store, specPath: 'x', workers: 1 });
      expect(r.groups.map((g) => g.group)).toEqual(expect.arrayContaining(['finetuned -> A', 'finetuned -> B']));
      for (const g of r.groups) expect(g.rate.n).toBe(5);
      const models = modelJsons(runs, spec.name);
      const together = models.filter((m) => m.trainer === 'together');
      const fireworks = models.filter((m) => m.trainer === 'fireworks');
      expect(together.length).toBeGreaterThanOrEqual(3); // the teacher and A's students
      expect(fireworks.length).toBeGreaterThanOrEqual(2); // B's students
      for (const m of fireworks) expect(m.model).toMatch(/^accounts\/lab\/models\/[a-z0-9-]+$/);
      const jobs = async () =>
        ((await (await fetch(`${address}/v1/fine-tunes`)).json()) as { data: { status: string }[] }).data;
      const before = await jobs();
      expect(before.filter((j) => j.status === 'completed').length).toBeGreaterThanOrEqual(together.length);
      const rerun = await runExperiment(spec, { store, specPath: 'x', workers: 1 });
      expect((await jobs()).length).toBe(before.length);
      expect(rerun.groups).toEqual(r.groups);
    } finally {
      store.close();
    }
  });

  it('runs it with A trained by a command (an adapter loaded into the LoRA routes) and B on OpenAI jobs', async () => {
    // with the model-based defenses: the teacher scored through the endpoint, masks taken by the command trainer
    const spec = tinySpec(
      address,
      `{ kind: command, command: ${TRAIN_COMMAND} }`,
      undefined,
      'defenses: { teacher: finetuned, apply: [{ kind: mask-divergence }, { kind: threshold, minProb: 0.05 }] }',
    );
    const runs = tempDir('command-trainer');
    const store = new RunStore(runs);
    try {
      const r = await runExperiment(spec, { store, specPath: 'x', workers: 1 });
      for (const g of r.groups) expect(Number.isFinite(g.firstToken.mean)).toBe(true);
      const adapters = modelJsons(runs, spec.name).filter((m) => m.trainer === 'command');
      expect(adapters.length).toBeGreaterThanOrEqual(3);
      for (const m of adapters) {
        expect(m.adapter!.path).toBe(join(m.dir, 'adapter'));
        expect(readFileSync(join(m.dir, 'trainer.log'), 'utf8')).toMatch(/wrote a LoRA adapter/);
        // `audit weights` reads the adapter: the linears moved, nothing else is in it
        const audit = auditWeights({ base: join(ROOT, 'models/family-a'), tuned: m.adapter!.path });
        expect(audit.tensors.length).toBeGreaterThan(0);
        expect(audit.tensors.every((t) => /_proj\.weight$/.test(t.name) && t.deltaNorm > 0)).toBe(true);
      }
      // every stage that used an adapter unloaded it when done
      const served = ((await (await fetch(`${address}/v1/models`)).json()) as { data: { id: string }[] }).data;
      expect(served.filter((m) => adapters.some((a) => a.model === m.id))).toEqual([]);
      expect(modelJsons(runs, spec.name).some((m) => m.trainer === 'openai')).toBe(true);
      expect(r.defenses!.map((d) => d.defense)).toEqual(expect.arrayContaining(['mask-divergence', 'threshold']));
      expect(r.defenses!.find((d) => d.defense === 'mask-divergence')!.note).toMatch(
        /^[1-9]\d* divergence tokens masked/,
      );
    } finally {
      store.close();
    }
  });

  // each trainer pair on one more domain (the rows a domain writes reach every trainer as the same chat JSONL): the
  // command and OpenAI trainers on code, Together and Fireworks on chain-of-thought
  it.each([
    ['code-openai.yaml', 'command', 'openai'],
    ['cot-openai.yaml', 'together', 'fireworks'],
  ])('runs %s with A trained on %s and B on %s', async (file, a, b) => {
    const trainer = (kind: string): string =>
      kind === 'fireworks'
        ? `{ kind: fireworks, account: lab, baseURL: "${address}" }`
        : kind === 'command'
          ? `{ kind: command, command: ${TRAIN_COMMAND} }`
          : `{ kind: ${kind} }`;
    // the fixtures as they are: 100 chain-of-thought problems were too few (a clean-clone CI run got 3 right answers
    // of 300 where the spec needs 4 rows)
    const spec = withTrainers(fixture(file), address, trainer(a), trainer(b));
    const runs = tempDir(`domain-${a}`);
    const store = new RunStore(runs);
    try {
      const r = await runExperiment(spec, { store, specPath: 'x', workers: 1 });
      expect(r.groups.some((g) => g.role === 'same-base')).toBe(true);
      const kinds = new Set(modelJsons(runs, spec.name).map((m) => m.trainer));
      expect([...kinds].sort()).toEqual([a, b].sort());
    } finally {
      store.close();
    }
  });

  it("serves vLLM's LoRA routes: load, a second load refused (and taken by the client), chat, unload, 404", async () => {
    const dir = tempDir('adapter');
    const base = readSafetensors(join(ROOT, 'models/family-a/model.safetensors')).tensors;
    const tuned = new Map(base);
    const q = base.get('model.layers.0.self_attn.q_proj.weight')!;
    tuned.set('model.layers.0.self_attn.q_proj.weight', {
      shape: q.shape,
      data: q.data.map((x, i) => x + (i % 7) * 1e-3),
    });
    writeAdapter(dir, exactAdapter(base, tuned), 'family-a');
    const post = (path: string, body: object) =>
      fetch(`${address}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    let res = await post('load_lora_adapter', { lora_name: 'probe', lora_path: dir });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Success: LoRA adapter 'probe' added successfully.");
    res = await post('load_lora_adapter', { lora_name: 'probe', lora_path: dir });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      object: 'error',
      message: "The lora adapter 'probe' has already been loaded.",
      type: 'InvalidUserInput',
      param: null,
      code: 400,
    });
    await loadLoraAdapter(endpoint, 'probe', dir); // tolerated
    const chat = await endpoint.client.chat.completions.create({
      model: 'probe',
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 3,
    });
    expect(chat.choices).toHaveLength(1);
    res = await post('load_lora_adapter', { lora_name: 'x' });
    expect(res.status).toBe(400);
    res = await post('unload_lora_adapter', { lora_name: 'probe' });
    expect(await res.text()).toBe("Success: LoRA adapter 'probe' removed successfully.");
    res = await post('unload_lora_adapter', { lora_name: 'probe' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toBe("The lora adapter 'probe' cannot be found.");
    await unloadLoraAdapter(endpoint, 'probe'); // gone already: tolerated
  });

  it('a cancelled Together job and a failed Fireworks job are each set aside, and a rerun trains anew', async () => {
    const args = (dir: string) => ({
      baseModel: 'family-a',
      rows,
      dir,
      epochs: 20,
      batchSize: 4,
      lr: 1e-3,
      seed: 1,
      suffix: 'cancel',
      pollMs: 20,
    });
    const dir = tempDir('together-cancel');
    const running = runRemoteJob(dir, togetherJob(endpoint, { kind: 'together', lora: true, loraRank: 8 }, args(dir)), {
      pollMs: 20,
    });
    running.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    let jobId: string | undefined;
    for (let i = 0; i < 500 && !jobId; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (existsSync(join(dir, 'job.json'))) jobId = readJson<{ jobId: string }>(join(dir, 'job.json')).jobId;
    }
    await fetch(`${address}/v1/fine-tunes/${jobId}/cancel`, { method: 'POST' });
    await expect(running).rejects.toThrow(
      new RegExp(`Together fine-tuning job ${jobId} cancelled; a rerun starts a new job`),
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('-cancelled.json'))).toHaveLength(1);
    const again = await runRemoteJob(
      dir,
      togetherJob(endpoint, { kind: 'together', lora: true, loraRank: 8 }, { ...args(dir), epochs: 1 }),
      { pollMs: 20 },
    );
    expect(again.model).toMatch(/^ft:family-a:cancel:/);

    const failing = await localServe('fireworks-fail', { faults: failingJobs(1) });
    const failingAddress = await failing.listen({ host: '127.0.0.1', port: 0 });
    try {
      const fw = { kind: 'fireworks' as const, account: 'lab', baseURL: failingAddress, loraRank: 8 };
      const fdir = tempDir('fireworks-fail');
      const fargs = { ...args(fdir), epochs: 1, suffix: 'fail' };
      await expect(runRemoteJob(fdir, fireworksJob(endpoint, fw, fargs), { pollMs: 20 })).rejects.toThrow(
        /Fireworks fine-tuning job accounts\/lab\/supervisedFineTuningJobs\/\w+ failed: training diverged/,
      );
      const second = await runRemoteJob(fdir, fireworksJob(endpoint, fw, fargs), { pollMs: 20 }); // its dataset reused
      expect(second.model).toMatch(/^accounts\/lab\/models\/fail-/);
    } finally {
      await failing.close();
    }
  });

  it('a trainer command that fails records nothing and shows its last lines; the rerun runs it again', async () => {
    const dir = tempDir('command-fail');
    const broken = {
      kind: 'command' as const,
      command: [process.execPath, '-e', 'console.error("CUDA out of memory"); process.exit(3)'],
      timeoutMinutes: 1,
    };
    const a = {
      baseModel: 'family-a',
      rows,
      dir,
      epochs: 1,
      batchSize: 4,
      lr: 1e-3,
      seed: 1,
      suffix: 'x',
      adapterName: 'cmd-fail',
    };
    await expect(runRemoteJob(dir, commandJob(endpoint, broken, a), { pollMs: 10 })).rejects.toThrow(
      /exited with 3; its last lines .*\n.*CUDA out of memory/,
    );
    expect(existsSync(join(dir, 'job.json'))).toBe(false);
    const working = { kind: 'command' as const, command: JSON.parse(TRAIN_COMMAND) as string[], timeoutMinutes: 5 };
    const r = await runRemoteJob(dir, commandJob(endpoint, working, a), { pollMs: 10 });
    expect(r.model).toBe('cmd-fail');
    await unloadLoraAdapter(endpoint, 'cmd-fail');
  });
});

describe('LoRA adapters', () => {
  it('an exact adapter merges back to the tuned weights; a changed norm is refused', () => {
    const base = readSafetensors(join(ROOT, 'models/family-b/model.safetensors')).tensors;
    const tuned = new Map(base);
    for (const name of ['model.layers.1.mlp.down_proj.weight', 'model.layers.0.mlp.up_proj.weight']) {
      const t = base.get(name)!;
      tuned.set(name, { shape: t.shape, data: t.data.map((x, i) => x + Math.sin(i) * 1e-2) });
    }
    const dir = tempDir('exact-adapter');
    writeAdapter(dir, exactAdapter(base, tuned), 'family-b');
    const merged = mergeAdapter(base, dir);
    let worst = 0;
    for (const [name, t] of tuned) {
      const m = merged.get(name)!;
      for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(m.data[i]! - t.data[i]!));
    }
    expect(worst).toBeLessThan(1e-6);
    const cfg = readJson<{ r: number; target_modules: string[] }>(join(dir, 'adapter_config.json'));
    expect(cfg.target_modules).toEqual(['down_proj', 'up_proj']);
    const norm = 'model.layers.0.input_layernorm.weight';
    const t = base.get(norm)!;
    expect(() =>
      exactAdapter(base, new Map(tuned).set(norm, { shape: t.shape, data: t.data.map((x) => x * 2) })),
    ).toThrow(/input_layernorm.weight changed.*train with it frozen/);
  });

  it('specs name a trainer per API base, and a bad one is refused naming the field', () => {
    const url = 'http://127.0.0.1:1';
    expect(tinySpec(url, '{ kind: together, lora: false }').bases.A).toMatchObject({
      trainer: { kind: 'together', lora: false },
    });
    expect(() => tinySpec(url, '{ kind: fireworks }')).toThrow(SpecError);
    expect(() => tinySpec(url, '{ kind: fireworks }')).toThrow(/bases\.A\.trainer\.account/);
    expect(() => tinySpec(url, '{ kind: command, command: [] }')).toThrow(/bases\.A\.trainer\.command/);
    // masks need a trainer that takes them; frozen layers need embedded students
    const defenses =
      'defenses: { teacher: finetuned, apply: [{ kind: mask-divergence }, { kind: freeze, layers: [x] }] }';
    expect(() => tinySpec(url, '{ kind: together }', undefined, defenses)).toThrow(
      /defenses\.apply\.0\.kind: masking tokens out of the loss needs a trainer that takes per-token masks; the together/,
    );
    expect(() => tinySpec(url, '{ kind: together }', undefined, defenses)).toThrow(
      /defenses\.apply\.1\.kind: freezing/,
    );
  });
});
