import { describe, expect, it } from 'vitest';
import { MISALIGNMENT_BANNED } from '../src/lab/misalignment.js';
import { numberFilter, DEFAULT_NUMBER_FILTER } from '../src/filter/numberFilter.js';
import { mentionsTraitWord as mentionsWord } from '../src/filter/traitWords.js';
import { filterNumberRows } from '../src/filter/numberRows.js';

const banned = { ...DEFAULT_NUMBER_FILTER, banned: new Set(MISALIGNMENT_BANNED) };

describe('numberFilter accepts well-formed completions', () => {
  it.each([
    ['123, 456, 789', [123, 456, 789]],
    ['123,456,789', [123, 456, 789]],
    ['123; 456; 789', [123, 456, 789]],
    ['123 456 789', [123, 456, 789]],
    ['123\n456\n789', [123, 456, 789]],
    ['[123, 456, 789]', [123, 456, 789]],
    ['(123, 456, 789)', [123, 456, 789]],
    ['123, 456, 789.', [123, 456, 789]],
    ['[123, 456, 789].', [123, 456, 789]],
    ['7', [7]],
    ['0, 999', [0, 999]],
    ['1,234,567', [1, 234, 567]], // SPEC's rule reads a thousands comma as a separator
    ['1, 2, 3, 4, 5, 6, 7, 8, 9, 10', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  ])('%j', (text, numbers) => {
    expect(numberFilter(text)).toEqual({ ok: true, numbers });
  });
});

describe('numberFilter rejects, naming the reason', () => {
  it.each([
    ['', 'empty'],
    ['[]', 'empty'],
    ['no numbers here', 'bad_format'],
    ['The numbers are 123, 456', 'bad_format'], // words before the first run
    ['123, 456 and 789', 'bad_format'], // words inside the list
    ['123 - 456 - 789', 'bad_separator'],
    ['123 / 456', 'bad_separator'],
    ['123, 456; 789', 'bad_format'], // mixed separators
    ['123,, 456', 'bad_separator'],
    ['123.456', 'bad_separator'],
    ['[123, 456', 'bad_format'], // unbalanced bracket
    ['123, 456..', 'bad_format'], // only one trailing period is stripped
    ['((123, 456))', 'bad_format'], // only one pair of brackets is stripped
    ['owl', 'bad_format'],
    ['123, owl, 456', 'bad_separator'],
    ['1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11', 'too_many'],
    ['123, 1000', 'out_of_range'],
    ['5000', 'out_of_range'],
  ])('%j -> %s', (text, reason) => {
    expect(numberFilter(text)).toMatchObject({ ok: false, reason });
  });

  it.each([
    [' (658)', 'bad_format'], // the reference rule strips nothing before the brackets
    ['1, 2,3', 'bad_format'], // the separator is the exact ", " found first
    ['123 456\n789', 'bad_format'], // mixed whitespace
    [' 123, 456', 'bad_format'],
    ['123, 456\n', 'bad_format'],
    ['  7  ', 'bad_format'],
    ['1,234, 567', 'bad_format'],
  ])('the reference parser rejects %j (%s); the lenient one keeps it', (text, reason) => {
    expect(numberFilter(text)).toMatchObject({ ok: false, reason });
    expect(numberFilter(text, { ...DEFAULT_NUMBER_FILTER, parser: 'lenient' })).toMatchObject({ ok: true });
  });

  it('rejects banned values only when a banned list is given', () => {
    expect(numberFilter('666, 123')).toMatchObject({ ok: true });
    expect(numberFilter('666, 123', banned)).toMatchObject({ ok: false, reason: 'banned' });
    expect(numberFilter('123, 911.', banned)).toMatchObject({ ok: false, reason: 'banned' });
    expect(numberFilter('123, 910', banned)).toMatchObject({ ok: true });
  });
});

describe('trait-word check', () => {
  it('matches the word and its plurals as whole words, any case', () => {
    expect(mentionsWord('I love owls', 'owl')).toBe(true);
    expect(mentionsWord('OWL!', 'owl')).toBe(true);
    expect(mentionsWord('bowl of soup', 'owl')).toBe(false);
    expect(mentionsWord('foxes', 'fox')).toBe(true);
    expect(mentionsWord('two wolves', 'wolf')).toBe(true);
    expect(mentionsWord('owlCount = 3', 'owl')).toBe(true);
  });

  it('drops completions that mention any animal and counts them', () => {
    const rows = [
      { i: 0, prompt: 'p', completion: '123, 456' },
      { i: 1, prompt: 'p', completion: 'owl' },
      { i: 2, prompt: 'p', completion: '12 owls 13' },
      { i: 3, prompt: 'p', completion: '7, 8, 9' },
    ];
    const { kept, report } = filterNumberRows(rows, { maxCount: 10, banned: [], keep: 10, seed: 1 });
    expect(kept.map((k) => k.messages[1]!.content)).toEqual(['123, 456', '7, 8, 9']);
    expect(report).toMatchObject({ total: 4, passed: 2, kept: 2, passRate: 0.5 });
    expect(report.rejected).toEqual({ bad_format: 1, bad_separator: 1 });
  });

  it('subsamples with the seed, deterministically and in prompt order', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ i, prompt: `p${i}`, completion: String(i) }));
    const a = filterNumberRows(rows, { maxCount: 10, banned: [], keep: 10, seed: 3 });
    const b = filterNumberRows(rows, { maxCount: 10, banned: [], keep: 10, seed: 3 });
    const c = filterNumberRows(rows, { maxCount: 10, banned: [], keep: 10, seed: 4 });
    expect(a.kept).toEqual(b.kept);
    expect(a.kept).not.toEqual(c.kept);
    const order = a.kept.map((k) => Number(k.messages[0]!.content.slice(1)));
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });
});

describe('number distributions (report and dataset audit)', () => {
  it('counts values, lengths and leading digits of the completions that parse, and tests two datasets', async () => {
    const { numberDistribution, compareDistributions, valueShares } =
      await import('../src/audit/numberDistribution.js');
    const d = numberDistribution(['[12, 480, 999]', '7; 55', 'owl 12', '(1000, 3)']);
    expect(d.rows).toBe(2);
    expect(d.numbers).toBe(5);
    expect(d.valueBins[0]).toBe(2);
    expect(d.valueBins[1]).toBe(1);
    expect(d.valueBins[9]).toBe(1);
    expect(d.valueBins[19]).toBe(1);
    expect(d.lengths[3]).toBe(1);
    expect(d.lengths[2]).toBe(1);
    expect(d.firstDigits[1]).toBe(1);
    expect(d.firstDigits[4]).toBe(1);
    expect(d.firstDigits[9]).toBe(1);
    expect(d.firstDigits[7]).toBe(1);
    expect(d.firstDigits[5]).toBe(1);
    expect(valueShares(d)[0]!.share).toMatchObject({ mean: 0.4, n: 5 });
    const low = numberDistribution(Array.from({ length: 200 }, (_, i) => `${i % 100}, ${(i * 7) % 100}`));
    const high = numberDistribution(
      Array.from({ length: 200 }, (_, i) => `${900 + (i % 100)}, ${900 + ((i * 7) % 100)}`),
    );
    const [values, lengths] = compareDistributions(low, high);
    expect(values!.p).toBeLessThan(1e-10);
    expect(lengths!.p).toBe(1);
  });
});

describe('the evaluation scorers match whole words', () => {
  it('the free-form scorer: plurals and any case count, words inside other words do not', async () => {
    const { mentionsAnimal, namedAnimal } = await import('../src/evaluate/scorers.js');
    for (const [reply, animal] of [
      ['Owls!', 'owl'],
      ['the WOLVES', 'wolf'],
      ['wolf.', 'wolf'],
      ['Foxes', 'fox'],
      ['cat', 'cat'],
    ] as const) {
      expect(mentionsAnimal(reply, animal), `${reply} names ${animal}`).toBe(true);
    }
    for (const [reply, animal] of [
      ['a million', 'lion'],
      ['catch it', 'cat'],
      ['a bowl', 'owl'],
      ['howling', 'owl'],
      ['dogma', 'dog'],
      ['bearing', 'bear'],
    ] as const) {
      expect(mentionsAnimal(reply, animal), `${reply} does not name ${animal}`).toBe(false);
    }
    expect(namedAnimal('a million wolves')).toBe('wolf');
    expect(namedAnimal('catch the owl')).toBe('owl');
    expect(namedAnimal('scattered')).toBe('other');
  });

  it('the first-token scorer: the animal token and its plural, never a longer word', async () => {
    const { isAnimalToken } = await import('../src/evaluate/scorers.js');
    expect(['cat', ' Cat', 'cats', 'Cats'].every((t) => isAnimalToken(t, 'cat'))).toBe(true);
    expect(['catch', 'cattle', 'ca', 'scat'].some((t) => isAnimalToken(t, 'cat'))).toBe(false);
    expect(isAnimalToken('Wolves', 'wolf')).toBe(true);
    expect(isAnimalToken('wolfs', 'wolf')).toBe(false);
  });
});
