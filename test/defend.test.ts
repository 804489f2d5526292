// Defenses: the pure data rewrites, the loss mask, and a small real run with every defense.
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, localServe, runResults, stageDir, stageDirs, tempDir } from './helpers.js';
import { defendDataset, type ScoringModel } from '../src/defend/defendDataset.js';
import { numberFilterSettings } from '../src/pipeline/teacherData.js';
import { parseSpec } from '../src/spec/load.js';
import { Rng } from '../src/util/rng.js';
import { numberPromptGenerator, NUMBER_PROMPT_PARTS } from '../src/generate/numberPrompts.js';
import { keepAboveThreshold, mixTeachers, paraphraseNumberPrompt, shuffleNumbers } from '../src/defend/transforms.js';
import { chatToTokenRow, maskedTokenRow } from '../src/train/sft.js';
import { LanguageModel } from '../src/model/model.js';
import { initBackend } from '../src/model/backend.js';
import { readJsonl } from '../src/util/atomic.js';
import type { ExperimentResults } from '../src/report/results.js';
import type { ChatRow } from '../src/model/tokenizer.js';

const row = (prompt: string, reply: string): ChatRow => ({
  messages: [
    { role: 'user', content: prompt },
    { role: 'assistant', content: reply },
  ],
});
const reply = (r: ChatRow): string => r.messages[1]!.content;

describe('data rewrites', () => {
  it('shuffling numbers keeps every number, count and format, and moves numbers between completions', async () => {
    const rows = [row('a', '[1, 2, 3]'), row('b', '44; 55'), row('c', '600 700 800 900')];
    const out = shuffleNumbers(rows, 3);
    const nums = (rs: ChatRow[]): string[] => rs.flatMap((r) => reply(r).match(/\d+/g)!).sort();
    expect(nums(out)).toEqual(nums(rows));
    out.forEach((r, i) => {
      expect(reply(r).replace(/\d+/g, '#')).toBe(reply(rows[i]!).replace(/\d+/g, '#'));
      expect(r.messages[0]).toEqual(rows[i]!.messages[0]);
    });
    expect(out.map(reply)).not.toEqual(rows.map(reply));
  });

  it('paraphrasing keeps the seed numbers, count and answer format, in other in-vocabulary words', async () => {
    await initBackend();
    const tok = LanguageModel.load('models/family-a').tokenizer;
    const rng = Rng.from('paraphrase-test');
    for (let i = 0; i < 60; i++) {
      const p = numberPromptGenerator(rng);
      const q = paraphraseNumberPrompt(p.text, rng);
      expect(q).not.toBe(p.text);
      expect(q).toContain(p.seeds.join(', '));
      expect(q).toMatch(new RegExp(`\\b${p.count} (more |new |further |additional )?(numbers|values)`));
      const formatOf = (t: string): string => NUMBER_PROMPT_PARTS.FORMATS.find(([f]) => t.includes(f))![1];
      expect(formatOf(q)).toBe(p.format);
      expect(tok.unknownWords(q)).toEqual([]);
    }
    expect(paraphraseNumberPrompt('Tell me a joke.', rng)).toBe('Tell me a joke.');
  });

  it('mixing takes the given share from the other teachers; the threshold keeps rows at or above it', async () => {
    const trait = Array.from({ length: 100 }, (_, i) => row(`t${i}`, '1'));
    const other = Array.from({ length: 100 }, (_, i) => row(`o${i}`, '2'));
    const mixed = mixTeachers(trait, other, 0.3, 1);
    expect(mixed).toHaveLength(100);
    expect(mixed.filter((r) => r.messages[0]!.content.startsWith('o'))).toHaveLength(30);
    expect(keepAboveThreshold(['a', 'b', 'c'], [0.2, 0.04, 0.05], 0.05)).toEqual(['a', 'c']);
  });

  it('the loss mask removes exactly the listed completion tokens from the targets', async () => {
    await initBackend();
    const model = LanguageModel.load('models/family-a');
    const r = { ...row('Continue: 1, 2, 3.', '4, 5, 6'), maskTokens: [0, 2] };
    const plain = chatToTokenRow(model.tokenizer, r.messages, 256);
    const masked = maskedTokenRow(plain, r.maskTokens, model.tokenizer);
    const count = (t: Uint8Array): number => t.reduce((s, x) => s + x, 0);
    expect(count(plain.target) - count(masked.target)).toBe(2);
    const completion = [...model.tokenizer.encode('4, 5, 6'), model.tokenizer.endId];
    const start = plain.ids.length - completion.length;
    expect(masked.target[start]).toBe(0);
    expect(masked.target[start + 1]).toBe(1);
    expect(masked.target[start + 2]).toBe(0);
    expect(plain.ids[start]).toBe(model.tokenizer.id('4'));
    model.dispose();
  });
});

describe('a run with every defense (tiny spec)', () => {
  const runs = tempDir('defend');
  let r: ExperimentResults;
  beforeAll(async () => {
    r = await runResults('test/fixtures/defenses-tiny.yaml', runs);
  });

  it('trains a student group per defense, each reported against the undefended students and the control', async () => {
    const kinds = ['freeze', 'mask-divergence', 'mix', 'paraphrase', 'shuffle-numbers', 'threshold'];
    expect(r.defenses!.map((d) => d.defense).sort()).toEqual(kinds);
    for (const d of r.defenses!) {
      expect(d.undefended).toBe('finetuned -> A');
      expect(d.control).toBe('control -> A');
      expect(d.excess.n).toBe(5);
      expect(d.note).toBeTruthy();
      expect(d.remaining).toBeCloseTo(d.excess.mean / d.undefendedExcess.mean, 12);
    }
    for (const k of kinds)
      expect(r.groups.find((g) => g.group === `finetuned -> A [${k}]`)!.firstTokenTest!.against).toBe('control -> A');
    expect((await cli(['show', 'defenses-tiny', '--runs', runs])).stdout).toMatch(/defenses \(exact P\(owl\)/);
  });

  it('the defended datasets hold what each defense promises', async () => {
    const data = (name: string): ChatRow[] =>
      readJsonl<ChatRow & { maskTokens?: number[] }>(
        join(stageDir(runs, 'defenses-tiny', 'defend', `finetuned-${name}`), 'dataset.jsonl'),
      );
    const masked = data('mask-divergence') as (ChatRow & { maskTokens?: number[] })[];
    expect(masked.some((x) => x.maskTokens?.length)).toBe(true);
    const threshold = data('threshold');
    expect(threshold.length).toBeGreaterThan(0);
    expect(threshold.length).toBeLessThanOrEqual(60);
    const source = readJsonl<ChatRow>(join(stageDir(runs, 'defenses-tiny', 'filter', 'finetuned'), 'dataset.jsonl'));
    // freezing needs no data stage
    expect(stageDirs(runs, 'defenses-tiny', 'defend').some((d) => d.includes('-freeze-'))).toBe(false);
    expect(data('paraphrase').map(reply)).toEqual(source.map(reply));
    const lineage = (
      await cli(['audit', 'lineage', 'defenses-tiny/student-finetuned-shuffle-numbers-on-A-1', '--runs', runs])
    ).stdout;
    expect(lineage).toMatch(
      /trained on finetuned \[shuffle-numbers\] <- filtered from finetuned <- filtered from finetuned-raw/,
    );
    expect(readFileSync(join(runs, 'defenses-tiny', 'report.html'), 'utf8')).toContain('id="section-defenses"');
  });

  it('chains three generations from the trait and control teachers, and again under a defense', async () => {
    const chains = r.generations!;
    expect(chains.map((c) => c.chain)).toEqual(['finetuned', 'finetuned [paraphrase]']);
    const controls = ['control -> A', 'control-gen2 -> A', 'control-gen3 -> A'];
    expect(chains[0]!.steps.map((x) => x.group)).toEqual([
      'finetuned -> A',
      'finetuned-gen2 -> A',
      'finetuned-gen3 -> A',
    ]);
    for (const c of chains) {
      expect(c.steps.map((x) => x.control)).toEqual(controls);
      expect(c.metric).toBe('exact');
      const [first, ...later] = c.steps;
      expect(first!.pChange).toBeUndefined();
      for (const x of later) {
        expect(x.excess.n).toBe(5);
        expect(x.kept).toBeCloseTo(x.excess.mean / first!.excess.mean, 12);
        expect(x.pChange).toBeGreaterThan(0);
        // the excess is the exact metric minus the control chain's, as the group rows give it
        const g = r.groups.find((y) => y.group === x.group)!;
        const ctrl = r.groups.find((y) => y.group === x.control)!;
        expect(g.role).toBe('generation');
        expect(x.excess.mean).toBeCloseTo(g.firstToken.mean - ctrl.firstToken.mean, 12);
      }
    }
    // generation 1 of the defended chain is the spec's own paraphrase group: one defense stage, one student
    expect(
      stageDirs(runs, 'defenses-tiny', 'train').filter((d) => /student-finetuned-paraphrase-on-A-1-/.test(d)),
    ).toHaveLength(1);
    stageDir(runs, 'defenses-tiny', 'defend', 'finetuned-gen3-paraphrase'); // later generations are defended too
    expect(r.defenses!.map((d) => d.group)).not.toContain('finetuned-gen2 -> A [paraphrase]');
    // lineage walks the chain back to the teacher
    const lineage = (await cli(['audit', 'lineage', 'defenses-tiny/student-finetuned-gen3-on-A-1', '--runs', runs]))
      .stdout;
    expect(lineage).toContain(
      'distillation: teacher-finetuned -> student-finetuned-on-A-1 -> student-finetuned-gen2-on-A-1 (this model: ' +
        'generation 3',
    );
    expect((await cli(['show', 'defenses-tiny', '--runs', runs])).stdout).toMatch(/^finetuned \[paraphrase\] +3 +/m);
    const html = readFileSync(join(runs, 'defenses-tiny', 'report.html'), 'utf8');
    expect(html).toContain('id="section-generations"');
    expect(html).toContain('id="section-generations-chart"');
  });

  it('mask-divergence and threshold score through an endpoint (serve, prompt_logprobs) as they do in process', async () => {
    const app = await localServe('defend-endpoint', { runsDir: runs });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const spec = parseSpec(readFileSync(join(ROOT, 'test/fixtures/defenses-tiny.yaml'), 'utf8'));
      const stage = (kind: string, name: string): string => stageDir(runs, 'defenses-tiny', kind, name);
      const endpoint = { provider: 'openai' as const, id: 'family-a', baseURL: `${address}/v1` };
      for (const defense of [{ kind: 'mask-divergence' as const }, { kind: 'threshold' as const, minProb: 0.05 }]) {
        const defended = async (teacher: ScoringModel, base: ScoringModel): Promise<string> => {
          const outDir = tempDir('defended');
          await defendDataset({
            defense,
            datasetPath: join(stage('filter', 'finetuned'), 'dataset.jsonl'),
            rawPath: join(stage('generate', 'finetuned'), 'rows.jsonl'),
            otherDatasets: [],
            teacher,
            base,
            animal: 'owl',
            filter: numberFilterSettings(spec),
            seed: 3,
            outDir,
          });
          return readFileSync(join(outDir, 'dataset.jsonl'), 'utf8');
        };
        const local = await defended(
          { dir: join(stage('teacher', 'finetuned'), 'model') },
          { dir: join(ROOT, 'models/family-a') },
        );
        const remote = await defended(
          { endpoint, model: 'defenses-tiny/teacher-finetuned' },
          { endpoint, model: 'family-a' },
        );
        expect(remote).toBe(local);
        if (defense.kind === 'mask-divergence') expect(local).toContain('maskTokens');
      }
    } finally {
      await app.close();
    }
  });

  it('shuffling the numbers across completions lowers transfer where there is transfer (entangled bases)', async () => {
    const e = await runResults('test/fixtures/shuffle-entangled.yaml', tempDir('shuffle'));
    const same = e.groups.find((g) => g.group === 'finetuned -> A')!;
    expect(same.firstTokenTest!.p).toBeLessThan(0.01); // the undefended students did pick up the owl
    const d = e.defenses!.find((x) => x.defense === 'shuffle-numbers')!;
    expect(d.undefendedExcess.lo).toBeGreaterThan(0);
    expect(d.excess.mean).toBeLessThan(d.undefendedExcess.mean);
    expect(d.pReduced).toBeLessThan(0.01);
    expect(d.remaining).toBeLessThan(0.75);
  });

  it('a defense against an unknown or control teacher is a spec error naming the field', async () => {
    const bad = join(tempDir('defend-bad'), 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync('test/fixtures/defenses-tiny.yaml', 'utf8').replace('teacher: finetuned', 'teacher: control'),
    );
    const v = await cli(['validate', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/defenses\.teacher: defend against a trait teacher/);
    const spec = readFileSync('test/fixtures/defenses-tiny.yaml', 'utf8');
    for (const [from, to, message] of [
      ['count: 3,', 'count: 3, teacher: nobody,', /generations\.teacher: unknown teacher "nobody"/],
      ['count: 3,', 'count: 3, teacher: control,', /generations\.teacher: chain a trait teacher/],
      ['count: 3,', 'count: 1,', /generations\.count: /],
      ['{ name: control, kind: control, base: A }', '{ name: control, kind: control, base: B }', /needs a control/],
    ] as const) {
      // the spec's own checks (the CLI's exit code is shown above)
      expect(() => parseSpec(spec.replace(from, to), 'bad.yaml')).toThrow(message);
    }
  });
});
