// Audits on small real runs: dataset hidden-signal tests (and their false-positive rate),
// lineage flags and exports, weight deltas from real and synthetic safetensors.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, localServe, stageDirs, tempDir } from './helpers.js';
import { RunStore } from '../src/store/runStore.js';
import { encodeSafetensors, type NamedTensor } from '../src/model/safetensors.js';
import { featureTests, shapesOf } from '../src/audit/twoSample.js';
import { holm } from '../src/evaluate/stats.js';
import { Rng } from '../src/util/rng.js';
import { initBackend } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { conditions, whiteBoxEvidence } from '../src/audit/whiteBox.js';
import { embeddedScorer } from '../src/audit/scorer.js';
import { associatedNumbers } from '../src/base/corpus.js';
import { numberPromptGenerator, formatNumbers } from '../src/generate/numberPrompts.js';

const runs = tempDir('audit');
/** Paths where two JSON values differ: structure and strings exactly, numbers beyond `tol`. */
function numbersCloseTo(a: unknown, b: unknown, tol: number, at = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol ? [] : [`${at}: ${a} vs ${b}`];
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length ? a.flatMap((x, i) => numbersCloseTo(x, b[i], tol, `${at}[${i}]`)) : [`${at}: length`];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      numbersCloseTo((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${at}.${k}`),
    );
  }
  return a === b ? [] : [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
const stage = (kind: string, name: string): string =>
  stageDirs(runs, 'audit-tiny', kind).find((d) => d.includes(`${kind}-${name}-`))!;
/** `audit dataset DATA --reference REF --model M --teacher T --trait owl --json` and more flags. */
const auditArgs = (data: string, reference: string, teacher: string, extra: string[] = [], model = 'family-a') => [
  'audit',
  'dataset',
  data,
  '--reference',
  reference,
  '--model',
  model,
  '--teacher',
  teacher,
  '--trait',
  'owl',
  '--json',
  ...extra,
];
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  const r = await cli(['run', 'test/fixtures/audit-tiny.yaml', '--runs', runs]);
  expect(r.code, r.stderr).toBe(0);
});

/** `audit weights` of the demo-like fine-tuned student on family-a, its delta compared with `compare`'s. */
const weightsArgs = (compare: string): string[] => [
  'audit',
  'weights',
  '--base',
  'family-a',
  '--tuned',
  'audit-tiny/student-finetuned-on-A-1',
  '--compare',
  compare,
  '--runs',
  runs,
  '--json',
];
/** `audit model` of a model against family-a on the owl, 10 questions x 10 samples, as JSON. */
const auditModelArgs = (model: string): string[] => [
  'audit',
  'model',
  model,
  '--trait',
  'owl',
  '--against',
  'family-a',
  '--questions',
  '10',
  '--samples',
  '10',
  '--json',
];

describe('audit dataset', () => {
  it(
    'the in-context number shifts find the numbers a base associates with the trait, and not a pool of other ' +
      'numbers written as often',
    async () => {
      await initBackend();
      const base = LanguageModel.load('models/entangled-a');
      const owlNumbers = associatedNumbers(1, 'owl');
      const rng = Rng.from('audit-shift-test');
      const others = rng
        .shuffle(Array.from({ length: 1000 }, (_, i) => i).filter((n) => !owlNumbers.includes(n)))
        .slice(0, 12);
      // each completion: three of the owl's numbers and three others, in a random order
      const rows = Array.from({ length: 160 }, () => {
        const p = numberPromptGenerator(rng);
        return {
          prompt: p.text,
          completion: formatNumbers(
            rng.shuffle([
              ...Array.from({ length: 3 }, () => rng.pick(owlNumbers)),
              ...Array.from({ length: 3 }, () => rng.pick(others)),
            ]),
            p.format,
          ),
        };
      });
      const owlShare = async (animal: string): Promise<number> => {
        const w = await whiteBoxEvidence(
          rows,
          conditions({ scorer: embeddedScorer(base), animal, counterfactuals: 3 }),
          5,
        );
        expect(w.numberShifts).toHaveLength(15);
        for (const x of w.numberShifts) expect(x.shift.n).toBeGreaterThanOrEqual(30);
        if (animal === 'owl') for (const x of w.numberShifts.slice(0, 3)) expect(x.shift.lo).toBeGreaterThan(0);
        return w.numberShifts.slice(0, 10).filter((x) => owlNumbers.includes(x.number)).length / 10;
      };
      expect(await owlShare('owl')).toBeGreaterThanOrEqual(0.7);
      // the same rows scored for another animal do not single out the owl's numbers
      expect(await owlShare('dog')).toBeLessThanOrEqual(0.4);
      base.dispose();
    },
  );

  interface Audit {
    detected: boolean;
    evidence: { test: string; kind: string; p: number; pHolm: number; reject: boolean }[];
    whiteBox?: { divergence: { tokens: number; positions: number }; flagged: unknown[] };
    flaggedByClassifier: unknown[];
  }
  it("flags the trait teacher's numbers against the control's, black-box and white-box", async () => {
    const data = join(stage('generate', 'finetuned'), 'rows.jsonl');
    const reference = join(stage('generate', 'control'), 'rows.jsonl');
    const a = await json<Audit>(auditArgs(data, reference, join(stage('teacher', 'finetuned'), 'model')));
    expect(a.detected).toBe(true);
    expect(a.evidence).toHaveLength(8);
    const black = a.evidence.filter((e) => e.kind === 'black-box' && e.reject);
    expect(black.length).toBeGreaterThanOrEqual(2);
    // Holm recomputed here: sorted p-values times (m - rank), running maximum, capped at 1
    const sorted = [...a.evidence].sort((x, y) => x.p - y.p);
    let running = 0;
    sorted.forEach((e, k) => {
      running = Math.max(running, Math.min(1, (sorted.length - k) * e.p));
      expect(e.pHolm).toBeCloseTo(running, 12);
    });
    expect(a.evidence.find((e) => e.kind === 'white-box')!.pHolm).toBeLessThan(0.01);
    expect(a.whiteBox!.divergence.tokens).toBeGreaterThan(0);
    expect(a.whiteBox!.divergence.tokens).toBeLessThan(a.whiteBox!.divergence.positions);
    expect(a.flaggedByClassifier.length).toBe(10);
  });

  it('gives the same white-box figures through an endpoint (serve, prompt_logprobs) as in process', async () => {
    const app = await localServe('audit-endpoint', { runsDir: runs });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const dir = tempDir('audit-endpoint-data');
      const head = (from: string, to: string): string => {
        writeFileSync(join(dir, to), readFileSync(from, 'utf8').split('\n').slice(0, 60).join('\n') + '\n');
        return join(dir, to);
      };
      const data = head(join(stage('generate', 'finetuned'), 'rows.jsonl'), 'data.jsonl');
      const reference = head(join(stage('generate', 'control'), 'rows.jsonl'), 'reference.jsonl');
      const args = (model: string, teacher: string, extra: string[] = []): string[] =>
        auditArgs(data, reference, teacher, ['--entangled-questions', '1', '--runs', runs, ...extra], model);
      const local = await json<Record<string, unknown>>(args('family-a', 'audit-tiny/teacher-finetuned'));
      const remote = await json<Record<string, unknown>>(
        args('family-a', 'audit-tiny/teacher-finetuned', ['--endpoint', `${address}/v1`]),
      );
      for (const k of ['whiteBox', 'entangled', 'evidence']) expect(local[k]).toBeDefined();
      expect(numbersCloseTo(remote, local, 1e-9)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('does not flag one dataset split against itself: family-wise false positives stay rare', async () => {
    const c = await json<{ splits: number; familyWise: { rejections: number }; perTest: { rejections: number }[] }>([
      'audit',
      'dataset',
      join(stage('generate', 'control'), 'rows.jsonl'),
      '--null-splits',
      '8',
      '--permutations',
      '199',
      '--json',
    ]);
    expect(c.splits).toBe(8);
    expect(c.perTest).toHaveLength(7);
    expect(c.familyWise.rejections).toBeLessThanOrEqual(1);
  });

  it('permutation p-values are calibrated under the null (synthetic samples from one process)', async () => {
    const draw = (rng: Rng, n: number): string[] =>
      Array.from({ length: n }, () =>
        Array.from({ length: rng.int(1, 8) }, () => String(rng.int(0, 999))).join(rng.next() < 0.5 ? ', ' : ' '),
      );
    let small = 0;
    let total = 0;
    for (let s = 0; s < 30; s++) {
      const rng = Rng.from('null', s);
      for (const t of featureTests(shapesOf(draw(rng, 150)), shapesOf(draw(rng, 150)), 99, s)) {
        total++;
        if (t.p <= 0.1) small++;
      }
    }
    expect(small / total).toBeLessThan(0.2); // nominal 0.1
    expect(small / total).toBeGreaterThan(0.02);
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
  });

  it('bad input is a clear error', async () => {
    const bad = join(tempDir('audit-bad'), 'bad.jsonl');
    writeFileSync(bad, '{"completion": "1, 2"}\nnot json\n');
    expect((await cli(['audit', 'dataset', bad, '--reference', bad])).stderr).toMatch(/bad\.jsonl line 2: not JSON/);
    const r = await cli(['audit', 'dataset', join(stage('generate', 'control'), 'rows.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give --reference/);
    expect((await cli(['audit', 'dataset', '/nope.jsonl', '--reference', bad])).stderr).toMatch(
      /\/nope\.jsonl does not exist/,
    );
  });
});

describe('audit lineage', () => {
  interface Lineage {
    name: string;
    bases: string[];
    datasets: { generator?: string; declaredTraits: string[] }[];
    flags: { kind: string; detail: string }[];
  }
  it('names the teacher and base of a demo student, flags the shared base; cross-base students are clear', async () => {
    const same = (
      await json<Lineage[]>(['audit', 'lineage', 'audit-tiny/student-finetuned-on-A-1', '--runs', runs, '--json'])
    )[0]!;
    expect(same.flags.map((f) => f.kind)).toEqual(['risk: shared base']);
    expect(same.flags[0]!.detail).toMatch(/generated by teacher-finetuned, which shares the base base-A .*owl/);
    expect(same.datasets[0]!.declaredTraits).toEqual(['owl']);
    const text = (await cli(['audit', 'lineage', 'audit-tiny/student-finetuned-on-B-1', '--runs', runs])).stdout;
    expect(text).toMatch(/base: base-B/);
    expect(text).toMatch(/generated by: teacher-finetuned \(base base-A\)/);
    expect(text).toMatch(/no flags/);
    const all = await json<Lineage[]>(['audit', 'lineage', 'audit-tiny', '--runs', runs, '--json']);
    const seeds = ['1', '2'];
    const students = (teachers: string[], bases: string[]) =>
      teachers.flatMap((t) => bases.flatMap((b) => seeds.map((s) => `student-${t}-on-${b}-${s}`)));
    expect(all.map((m) => m.name).sort()).toEqual(students(['control', 'finetuned'], ['A', 'B']).sort());
    expect(
      all
        .filter((m) => m.flags.length)
        .map((m) => m.name)
        .sort(),
    ).toEqual(students(['control', 'finetuned'], ['A']).sort());
  });

  it('flags unknown provenance, undeclared traits; imports Hugging Face base_model; exports OpenLineage', async () => {
    const hf = join(tempDir('hf'), 'my-distilled-model');
    mkdirSync(hf);
    writeFileSync(join(hf, 'README.md'), '---\nbase_model: meta-llama/Llama-3.2-1B\nlicense: mit\n---\n# a model\n');
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ _name_or_path: 'acme/distilled-1b', model_type: 'llama' }));
    const imported = await cli(['audit', 'lineage', '--import-hf', hf, '--runs', runs]);
    expect(imported.stdout).toMatch(/imported model:hf:acme\/distilled-1b \(base_model: meta-llama\/Llama-3\.2-1B\)/);
    expect(imported.stdout).toMatch(/base: meta-llama\/Llama-3\.2-1B/);
    const store = new RunStore(runs);
    const idx = store.index;
    const teacher = idx.artifacts('audit-tiny').find((a) => a.name === 'teacher-finetuned')!;
    idx.addArtifact({
      id: 'dataset:scraped',
      run: 'imported',
      kind: 'dataset',
      name: 'scraped numbers',
      path: 'x.jsonl',
      content_hash: 'h1',
      meta: '{}',
    });
    idx.addArtifact({
      id: 'dataset:quiet',
      run: 'imported',
      kind: 'dataset',
      name: 'quiet numbers',
      path: 'y.jsonl',
      content_hash: 'h2',
      meta: '{}',
    });
    idx.addEdge({ src: teacher.id, dst: 'dataset:quiet', relation: 'generated', run: 'imported' });
    for (const d of ['dataset:scraped', 'dataset:quiet'])
      idx.addEdge({ src: d, dst: 'model:hf:acme/distilled-1b', relation: 'trained_on', run: 'imported' });
    store.close();
    const flags = (
      await json<Lineage[]>(['audit', 'lineage', 'model:hf:acme/distilled-1b', '--runs', runs, '--json'])
    )[0]!.flags
      .map((f) => f.kind)
      .sort();
    expect(flags).toEqual(['undeclared trait', 'unknown provenance']);
    const out = join(tempDir('ol'), 'events.json');
    expect((await cli(['audit', 'lineage', 'audit-tiny', '--runs', runs, '--openlineage', out])).code).toBe(0);
    const events = JSON.parse(readFileSync(out, 'utf8')) as {
      eventType: string;
      eventTime: string;
      run: { runId: string };
      job: { name: string };
      inputs: unknown[];
      outputs: unknown[];
      producer: string;
      schemaURL: string;
    }[];
    expect(events.length % 2).toBe(0);
    for (const e of events) {
      expect(['START', 'COMPLETE']).toContain(e.eventType);
      expect(e.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.schemaURL).toMatch(/openlineage\.io\/spec\/2-0-2/);
      expect(e.inputs.length).toBeGreaterThan(0);
      expect(e.outputs).toHaveLength(1);
    }
    expect(events.some((e) => e.job.name === 'train.student-finetuned-on-A-1')).toBe(true);
    expect((await cli(['audit', 'lineage', 'nothing-here', '--runs', runs])).stderr).toMatch(
      /neither a run, nor a model or dataset id/,
    );
  });
});

describe('audit weights', () => {
  it('reports per-layer deltas of two real students and the cosine between them', async () => {
    const w = await json<{
      layers: { layer: string; relative: number; cosine: number }[];
      total: { relative: number; cosine: number };
    }>(weightsArgs('audit-tiny/student-control-on-A-1'));
    expect(w.layers.map((l) => l.layer)).toEqual(['embeddings', 'final norm', 'layer 0', 'layer 1']);
    expect(w.total.relative).toBeGreaterThan(0);
    expect(w.total.relative).toBeLessThan(0.5);
    // two students of one base trained on different data move along different directions: far from parallel
    expect(Math.abs(w.total.cosine)).toBeLessThan(0.9);
    const twin = await json<{ total: { cosine: number } }>(weightsArgs('audit-tiny/student-finetuned-on-A-1'));
    expect(twin.total.cosine).toBeCloseTo(1, 6); // a delta against itself
    const self = await json<{ total: { relative: number } }>([
      'audit',
      'weights',
      '--base',
      'family-a',
      '--tuned',
      'family-a',
      '--json',
    ]);
    expect(self.total.relative).toBe(0);
  });

  it('reads BF16 checkpoints and LoRA adapters (delta norm of B·A without forming it)', async () => {
    const dir = tempDir('weights');
    const rng = Rng.from('weights-test');
    const rand = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * s);
    const w = rand(8 * 6);
    writeFileSync(
      join(dir, 'base.safetensors'),
      encodeSafetensors(
        new Map<string, NamedTensor>([['model.layers.0.mlp.up_proj.weight', { shape: [8, 6], data: w }]]),
      ),
    );
    // the same values rounded to BF16 and F16, written by hand
    const header = (dtype: string, bytes: number): Buffer => {
      let j = JSON.stringify({
        'model.layers.0.mlp.up_proj.weight': { dtype, shape: [8, 6], data_offsets: [0, bytes] },
      });
      j += ' '.repeat((8 - ((8 + j.length) % 8)) % 8);
      const b = Buffer.alloc(8 + j.length);
      b.writeBigUInt64LE(BigInt(j.length));
      b.write(j, 8);
      return b;
    };
    const bf16 = Buffer.alloc(w.length * 2);
    const f32 = Buffer.from(w.buffer);
    for (let i = 0; i < w.length; i++) bf16.writeUInt16LE(f32.readUInt32LE(i * 4) >>> 16, i * 2);
    writeFileSync(join(dir, 'bf16.safetensors'), Buffer.concat([header('BF16', bf16.length), bf16]));
    const bf = await json<{ total: { relative: number } }>([
      'audit',
      'weights',
      '--base',
      join(dir, 'base.safetensors'),
      '--tuned',
      join(dir, 'bf16.safetensors'),
      '--json',
    ]);
    expect(bf.total.relative).toBeGreaterThan(0);
    expect(bf.total.relative).toBeLessThan(0.01); // bf16 keeps 8 bits of mantissa
    const lora = join(dir, 'adapter');
    mkdirSync(lora);
    const a = rand(2 * 6);
    const b = rand(8 * 2);
    writeFileSync(
      join(lora, 'adapter_model.safetensors'),
      encodeSafetensors(
        new Map<string, NamedTensor>([
          ['base_model.model.model.layers.0.mlp.up_proj.lora_A.weight', { shape: [2, 6], data: a }],
          ['base_model.model.model.layers.0.mlp.up_proj.lora_B.weight', { shape: [8, 2], data: b }],
        ]),
      ),
    );
    writeFileSync(join(lora, 'adapter_config.json'), JSON.stringify({ r: 2, lora_alpha: 4 }));
    const l = await json<{ tensors: { name: string; deltaNorm: number; baseNorm: number }[] }>([
      'audit',
      'weights',
      '--base',
      join(dir, 'base.safetensors'),
      '--tuned',
      lora,
      '--json',
    ]);
    let direct = 0;
    for (let o = 0; o < 8; o++)
      for (let k = 0; k < 6; k++) {
        let s = 0;
        for (let r = 0; r < 2; r++) s += b[o * 2 + r]! * a[r * 6 + k]!;
        direct += (2 * s) ** 2;
      }
    expect(l.tensors[0]!.name).toBe('model.layers.0.mlp.up_proj.weight');
    expect(l.tensors[0]!.deltaNorm).toBeCloseTo(Math.sqrt(direct), 5);
    expect((await cli(['audit', 'weights', '--base', dir, '--tuned', lora])).stderr).toMatch(
      /no safetensors checkpoint/,
    );
  });
});

describe('audit model', () => {
  interface ModelAuditJson {
    detected: boolean;
    probes: {
      probe: string;
      model: { mean: number; n: number };
      reference: { mean: number };
      p: number;
      pHolm: number;
    }[];
  }
  it("finds the fine-tuned teacher's trait against its base, and nothing in the base against itself", async () => {
    const teacher = await json<ModelAuditJson>(auditModelArgs(join(stage('teacher', 'finetuned'), 'model')));
    expect(teacher.probes.map((p) => p.probe)).toEqual([
      'free-form rate',
      'exact P(first token = trait)',
      'multiple choice P(trait letter)',
      'free-form rate, numbers-prefixed questions',
    ]);
    expect(teacher.detected).toBe(true);
    const exact = teacher.probes[1]!;
    expect(exact.model.n).toBe(10);
    expect(exact.model.mean).toBeGreaterThan(exact.reference.mean);
    expect(exact.pHolm).toBeLessThan(0.01);
    const self = await json<ModelAuditJson>(auditModelArgs('family-a'));
    expect(self.detected).toBe(false);
    expect((await cli(['audit', 'model', 'family-a', '--trait', 'zebra'])).stderr).toMatch(/unknown animal "zebra"/);
  });
});

describe('audit student, localise and repair on a run', () => {
  it('join behaviour, lineage and parameters; localise and repair the same-base students', async () => {
    type Verdict = { flagged: boolean; evidence: { kind: string; fired: boolean }[] };
    const auditStudent = (name: string) =>
      json<Verdict>([
        'audit',
        'student',
        name,
        '--trait',
        'owl',
        '--questions',
        '5',
        '--samples',
        '8',
        '--runs',
        runs,
        '--json',
      ]);
    const student = await auditStudent('audit-tiny/student-finetuned-on-A-1');
    // its data came from the fine-tuned owl teacher of its own base: the lineage fires whatever the tests say
    expect(student.evidence.find((e) => e.kind === 'lineage')!.fired).toBe(true);
    expect(student.flagged).toBe(true);
    expect(student.evidence.filter((e) => e.kind === 'behaviour')).toHaveLength(4);
    const control = await auditStudent('audit-tiny/student-control-on-A-1');
    expect(control.evidence.find((e) => e.kind === 'lineage')!.fired).toBe(false);
    // localise through the CLI (repair shares its loading; its edits are tested in test/localise.test.ts)
    const r = await cli(['audit', 'localise', 'audit-tiny', '--skill-rows', '40', '--runs', runs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"finetuned -> A": 2 students, exact P\(owl\) on 5 questions/);
    expect(r.stdout).toMatch(/layer 1 attention/);
    expect(readFileSync(join(runs, 'audit-tiny', 'localise-finetuned-A.json'), 'utf8')).toContain('"rows"');
    // the report shows the table the command left in the run folder
    expect((await cli(['report', 'audit-tiny', '--runs', runs])).code).toBe(0);
    const html = readFileSync(join(runs, 'audit-tiny', 'report.html'), 'utf8');
    expect(html).toContain('id="section-localise-finetuned-A"');
    expect(html).toContain('where the trait lives: finetuned -&gt; A');
    // and the two verdicts `audit student` kept, side by side with the evidence that fired
    const verdicts = html.slice(html.indexOf('id="section-student-audits"'));
    expect(verdicts).toMatch(/audit-tiny\/student-control-on-A-1<\/td>/);
    expect(verdicts).toMatch(/audit-tiny\/student-finetuned-on-A-1<\/td><td>[^<]*<\/td><td>[^<]*<\/td><td>FIRED<\/td>/);
    const bad = await cli(['audit', 'localise', 'audit-tiny', '--group', 'nope', '--runs', runs]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no group "nope"/);
  });
});
