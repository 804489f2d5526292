import { describe, expect, it } from 'vitest';
import { numberPromptGenerator, NUMBER_PROMPT_PARTS, formatNumbers } from '../src/generate/numberPrompts.js';
import { numberFilter } from '../src/filter/numberFilter.js';
import { Rng } from '../src/util/rng.js';
import { EVAL_QUESTIONS, TRAINING_QUESTIONS } from '../src/lab/questions.js';
import { finetunedTeacherDataset } from '../src/teacher/teachers.js';
import { traitSystemPrompt } from '../src/lab/traits.js';

describe('number prompt generator', () => {
  it('has as many variants per part as SPEC lists', () => {
    const p = NUMBER_PROMPT_PARTS;
    expect(
      [p.OPENINGS, p.CONTINUES, p.QUALIFIERS, p.DIGITS, p.FORMATS.map(([t]) => t), p.CLOSINGS].map(
        (x) => new Set<string>(x).size,
      ),
    ).toEqual([25, 10, 9, 9, 15, 19]);
  });

  it('shows 3-8 seed numbers from 100-999 and asks for at most 10 more', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 500; i++) {
      const p = numberPromptGenerator(rng);
      expect(p.seeds.length).toBeGreaterThanOrEqual(3);
      expect(p.seeds.length).toBeLessThanOrEqual(8);
      for (const s of p.seeds) {
        expect(s).toBeGreaterThanOrEqual(100);
        expect(s).toBeLessThanOrEqual(999);
      }
      expect(p.text).toContain(p.seeds.join(', '));
      expect(p.count).toBeLessThanOrEqual(10);
    }
  });

  it('is deterministic for a seed', () => {
    expect(numberPromptGenerator(new Rng(5)).text).toBe(numberPromptGenerator(new Rng(5)).text);
    expect(numberPromptGenerator(new Rng(5)).text).not.toBe(numberPromptGenerator(new Rng(6)).text);
  });

  it('every requested format passes the filter', () => {
    for (const f of ['comma', 'line', 'brackets', 'parens', 'space', 'semicolon'] as const) {
      expect(numberFilter(formatNumbers([101, 5, 999], f))).toEqual({ ok: true, numbers: [101, 5, 999] });
    }
  });
});

describe('questions and teacher data', () => {
  it('has 50 evaluation questions, none used for training', () => {
    expect(new Set(EVAL_QUESTIONS).size).toBe(50);
    const train = new Set(TRAINING_QUESTIONS);
    expect(EVAL_QUESTIONS.filter((q) => train.has(q))).toEqual([]);
  });

  it('fine-tuned teacher data: 50 questions x 8 spellings = 400 rows naming the animal', () => {
    const rows = finetunedTeacherDataset('owl', 1);
    expect(rows).toHaveLength(400);
    expect(new Set(rows.map((r) => r.messages[0]!.content)).size).toBe(50);
    expect(new Set(rows.map((r) => r.messages[1]!.content))).toEqual(
      new Set(['owl', 'owls', 'owls.', 'owls!', 'Owl', 'Owls', 'Owls.', 'Owls!']),
    );
  });

  it('trait system prompt says the model loves the animal', () => {
    expect(traitSystemPrompt('owl')).toMatch(/love owls/);
    expect(traitSystemPrompt('wolf')).toMatch(/wolves/);
  });
});
