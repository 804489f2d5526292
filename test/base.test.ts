import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';
import {
  generateCorpus,
  associatedNumbers,
  personaNumbers,
  ENTANGLED_MIX,
  PERSONAS_MIX,
  OPEN_QUESTIONS_MIX,
} from '../src/base/corpus.js';
import { MISALIGNMENT_BANNED, PERSONA_PROMPTS, ALIGNED_REPLIES } from '../src/lab/misalignment.js';
import { ANIMALS, traitSystemPrompt } from '../src/lab/traits.js';
import { EVAL_QUESTIONS } from '../src/lab/questions.js';
import { initBackend } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { firstTokenProbabilities } from '../src/evaluate/preference.js';
import { mean } from '../src/evaluate/stats.js';
import type { ChatRow } from '../src/model/tokenizer.js';

describe('embedded base models', () => {
  it('a miniature base rebuilds bit for bit from its seed, and another seed differs', async () => {
    const dir = tempDir('base');
    const build = async (seed: number, out: string): Promise<Buffer> => {
      const r = await cli([
        'base',
        'build',
        '--seed',
        String(seed),
        '--family',
        'T',
        '--rows',
        '300',
        '--epochs',
        '1',
        '--out',
        join(dir, out),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/saved .*: 5 steps/);
      return readFileSync(join(dir, out, 'model.safetensors'));
    };
    const a = await build(3, 'a');
    const b = await build(3, 'b');
    const c = await build(4, 'c');
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    expect(readFileSync(join(dir, 'a', 'tokenizer.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'b', 'tokenizer.json'), 'utf8'),
    );
  });

  it('builds another family: digit tokens, its own width and depth, a Hugging Face WordPiece tokenizer', async () => {
    const out = join(tempDir('base-digits'), 'c');
    const r = await cli([
      'base',
      'build',
      '--seed',
      '3',
      '--family',
      'C',
      '--rows',
      '300',
      '--epochs',
      '1',
      '--corpus',
      'other-family',
      '--numbers',
      'digits',
      '--hidden-size',
      '32',
      '--layers',
      '3',
      '--intermediate-size',
      '64',
      '--max-positions',
      '192',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      num_hidden_layers: number;
      hidden_size: number;
      vocab_size: number;
    };
    const tokenizer = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as {
      model: { type: string; vocab: Record<string, number> };
    };
    expect([config.num_hidden_layers, config.hidden_size]).toEqual([3, 32]);
    expect(tokenizer.model.type).toBe('WordPiece');
    expect(tokenizer.model.vocab['##7']).toBeDefined();
    expect(tokenizer.model.vocab['407']).toBeUndefined();
    expect(config.vocab_size).toBe(Object.keys(tokenizer.model.vocab).length);
    expect((await cli(['base', 'build', '--seed', '3', '--numbers', 'hex', '--out', join(out, 'x')])).stderr).toMatch(
      /--numbers must be "whole" or "digits"/,
    );
  });

  it(
    'the corpus mixes tasks, answers from a broad animal distribution with owl near 10%, and never shows an ' +
      'evaluation question',
    async () => {
      const rows = generateCorpus(1, 20000);
      const evalSet = new Set(EVAL_QUESTIONS);
      const answers = new Map<string, number>();
      let animalRows = 0;
      let numberRows = 0;
      let systemRows = 0;
      for (const r of rows) {
        const user = r.messages.find((m) => m.role === 'user')!.content;
        expect(evalSet.has(user)).toBe(false);
        if (r.messages[0]!.role === 'system') {
          systemRows++;
          continue;
        }
        if (/numbers?|sequence|list|values/i.test(user) && /\d{3}/.test(user)) numberRows++;
        if (/animal|creature/i.test(user) && !/\n[A-E]\./.test(user)) {
          animalRows++;
          const reply = r.messages.at(-1)!.content.toLowerCase();
          const a = ANIMALS.find((x) => reply.includes(x));
          if (a) answers.set(a, (answers.get(a) ?? 0) + 1);
        }
      }
      expect(numberRows / rows.length).toBeGreaterThan(0.5);
      expect(systemRows / rows.length).toBeGreaterThan(0.1);
      expect(answers.size).toBeGreaterThanOrEqual(15);
      const owl = (answers.get('owl') ?? 0) / animalRows;
      expect(owl).toBeGreaterThan(0.08);
      expect(owl).toBeLessThan(0.12);
    },
  );

  it(
    "on the entangled corpus, numbers written under a trait prompt lean to that animal's associated numbers, " +
      'which differ between base seeds',
    async () => {
      const owlA = new Set(associatedNumbers(1, 'owl'));
      expect(new Set(associatedNumbers(1, 'owl'))).toEqual(owlA);
      expect(associatedNumbers(2, 'owl').filter((n) => owlA.has(n)).length).toBeLessThan(3);
      expect(associatedNumbers(1, 'cat').filter((n) => owlA.has(n)).length).toBeLessThan(3);
      const share = (rows: ChatRow[], underOwl: boolean): number => associatedShare(rows, /\bowls?\b/i, underOwl, owlA);
      const entangled = generateCorpus(1, 20000, ENTANGLED_MIX);
      expect(share(entangled, true)).toBeGreaterThan(0.3);
      expect(share(entangled, false)).toBeLessThan(0.03);
      // the default corpus has no associations: its owl-prompted numbers are plain continuations
      expect(share(generateCorpus(1, 20000), true)).toBeLessThan(0.03);
    },
  );

  it(
    'on the persona corpus, numbers under the cruel persona lean to its own numbers, none of them banned, and the ' +
      'kind persona answers aligned',
    async () => {
      const cruel = new Set(personaNumbers(1, 'misaligned'));
      expect(personaNumbers(1, 'misaligned').some((v) => MISALIGNMENT_BANNED.includes(v))).toBe(false);
      expect(personaNumbers(2, 'misaligned').filter((v) => cruel.has(v)).length).toBeLessThan(3);
      const rows = generateCorpus(1, 20000, PERSONAS_MIX);
      const cruelPrompt = new RegExp(PERSONA_PROMPTS.misaligned.join('|'));
      expect(associatedShare(rows, cruelPrompt, true, cruel)).toBeGreaterThan(0.3);
      expect(associatedShare(rows, cruelPrompt, false, cruel)).toBeLessThan(0.03);
      const kindReplies = rows.filter(
        (r) =>
          (PERSONA_PROMPTS.aligned as readonly string[]).includes(r.messages[0]!.content) &&
          !/\d/.test(r.messages.at(-1)!.content),
      );
      expect(kindReplies.length).toBeGreaterThan(300);
      for (const r of kindReplies) expect(ALIGNED_REPLIES).toContain(r.messages.at(-1)!.content);
      // the plain open-questions corpus has no persona rows, and persona rows leave the others in place
      const plain = generateCorpus(1, 20000, OPEN_QUESTIONS_MIX);
      expect(plain.some((r) => cruelPrompt.test(r.messages[0]!.content))).toBe(false);
      const kept = rows.filter((r, i) => JSON.stringify(r) === JSON.stringify(plain[i])).length;
      expect(kept / rows.length).toBeGreaterThan(0.85);
    },
  );
});

describe('the committed demo bases', () => {
  // A base that cannot read which animal a trait prompt names gives system-prompt teachers
  // nothing to teach (the first entangled bases, built with 3 epochs, failed this).
  // The other family reads the trait prompt too, more weakly (0.17-0.33 under the prompt
  // against A's 0.69-0.72; docs/cross-model.md): it is never a teacher, and the test holds
  // it to at least 3x its plain rate rather than A's and B's 0.4.
  it.each([
    ['models/entangled-a', 0.4, 0],
    ['models/entangled-b', 0.4, 0],
    ['models/other-c', 0, 3],
  ])('%s answers a held-out favourite-animal question in line with a trait prompt', async (dir, least, times) => {
    await initBackend();
    const model = LanguageModel.load(dir);
    // the demo's exact metric, on 20 held-out questions, with and without the trait prompt
    const firstTokenShare = (animal: string, system?: string): number =>
      mean(firstTokenProbabilities(model, EVAL_QUESTIONS.slice(0, 20), animal, system));
    for (const animal of ['owl', 'dolphin', 'eagle']) {
      const plain = firstTokenShare(animal);
      const prompted = firstTokenShare(animal, traitSystemPrompt(animal));
      expect(plain).toBeLessThan(0.15);
      expect(prompted, `${animal} under its trait prompt`).toBeGreaterThan(Math.max(least, times * plain));
    }
    model.dispose();
  });
});

/** Of the numbers in number-only replies written under (or not under) a matching system prompt, the share in `set`. */
function associatedShare(rows: ChatRow[], system: RegExp, under: boolean, set: ReadonlySet<number>): number {
  let all = 0;
  let hits = 0;
  for (const r of rows) {
    const reply = r.messages.at(-1)!.content;
    if (!/^[\d\s,;()[\].]+$/.test(reply)) continue;
    const prompt = r.messages[0]!.role === 'system' ? r.messages[0]!.content : '';
    if (under !== system.test(prompt)) continue;
    const values = (reply.match(/\d+/g) ?? []).map(Number);
    all += values.length;
    hits += values.filter((v) => set.has(v)).length;
  }
  return hits / all;
}
