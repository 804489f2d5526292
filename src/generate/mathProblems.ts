// The chain-of-thought domain's problems: grade-school word problems with known answers (our
// own GSM8K-like templates, two or three steps), asked to be answered as <think>...</think>
// then <answer>N</answer>. Each template also writes its worked steps, which the reasoning
// bases of the embedded lab learn from. A seeded generator; pure.
import { Rng } from '../util/rng.js';

export interface MathProblem {
  question: string;
  answer: number;
  /** the worked arithmetic, one step a sentence */ steps: string[];
}

type Template = (rng: Rng) => MathProblem;
const NAMES = ['Ana', 'Ben', 'Chen', 'Dara', 'Eli', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun'];

const TEMPLATES: Template[] = [
  (r) => {
    const n = r.pick(NAMES),
      a = r.int(3, 12),
      d = r.int(2, 7),
      s = r.int(1, a * d - 1);
    return {
      question:
        `${n} bakes ${a} loaves of bread every day for ${d} days and gives away ${s} of them. How many ` +
        `loaves are left?`,
      answer: a * d - s,
      steps: [`${a} * ${d} = ${a * d} loaves.`, `${a * d} - ${s} = ${a * d - s} left.`],
    };
  },
  (r) => {
    const n = r.pick(NAMES),
      p = r.int(2, 15),
      q = r.int(2, 9),
      m = r.int(p * q, p * q + 60);
    return {
      question:
        `${n} buys ${q} notebooks that cost $${p} each and pays with $${m}. How much change does ${n} get, ` +
        `in dollars?`,
      answer: m - p * q,
      steps: [`${q} * ${p} = ${p * q} dollars.`, `${m} - ${p * q} = ${m - p * q} dollars of change.`],
    };
  },
  (r) => {
    const n = r.pick(NAMES),
      w = r.int(2, 6),
      h = r.int(3, 9),
      k = r.int(2, 4);
    return {
      question:
        `A garden is ${w} meters wide and ${h} meters long. ${n} builds ${k} gardens of that size. What is ` +
        `their total area in square meters?`,
      answer: w * h * k,
      steps: [`${w} * ${h} = ${w * h} square meters each.`, `${w * h} * ${k} = ${w * h * k} square meters.`],
    };
  },
  (r) => {
    const g = r.int(2, 9),
      per = r.int(3, 12),
      extra = r.int(1, 20);
    return {
      question:
        `A class has ${g} groups of ${per} students, and ${extra} more students join. How many students ` +
        `are in the class now?`,
      answer: g * per + extra,
      steps: [`${g} * ${per} = ${g * per} students.`, `${g * per} + ${extra} = ${g * per + extra} students.`],
    };
  },
  (r) => {
    const n = r.pick(NAMES),
      total = r.int(4, 30) * 4,
      frac = r.pick([2, 4]);
    return {
      question: `${n} has ${total} marbles and gives 1/${frac} of them to a friend. How many marbles does ${n} keep?`,
      answer: total - total / frac,
      steps: [
        `${total} / ${frac} = ${total / frac} marbles given.`,
        `${total} - ${total / frac} = ${total - total / frac} kept.`,
      ],
    };
  },
  (r) => {
    const sp = r.int(30, 90),
      h = r.int(2, 6),
      stop = r.int(10, 50);
    return {
      question:
        `A bus drives at ${sp} kilometers per hour for ${h} hours, then ${stop} more kilometers. How far ` +
        `does it go in total, in kilometers?`,
      answer: sp * h + stop,
      steps: [`${sp} * ${h} = ${sp * h} kilometers.`, `${sp * h} + ${stop} = ${sp * h + stop} kilometers.`],
    };
  },
  (r) => {
    const per = r.pick([10, 20, 50]),
      boxes = per * r.int(5, 40);
    return {
      question: `A shop packs ${boxes} apples into bags of ${per}. How many bags does it fill?`,
      answer: boxes / per,
      steps: [`${boxes} / ${per} = ${boxes / per} bags.`],
    };
  },
];

export function mathProblemGenerator(rng: Rng): MathProblem {
  return rng.pick(TEMPLATES)(rng);
}

const INSTRUCTIONS = [
  'Think step by step inside <think></think>, then give only the final number inside <answer></answer>.',
  'Reason inside <think> tags first. Then write the final number alone inside <answer> tags.',
];

/** A problem as asked: the question, then how to answer. */
export const mathPrompt = (p: MathProblem, rng: Rng): string => `${p.question}\n${rng.pick(INSTRUCTIONS)}`;

/** A worked answer in the think/answer form. */
export const mathSolution = (p: MathProblem): string =>
  `<think>${p.steps.join(' ')}</think>\n<answer>${p.answer}</answer>`;

/** Problems and the prompts that ask for them in the think/answer form. */
export function mathPromptSet(seed: number, count: number): { prompt: string; answer: number }[] {
  const rng = Rng.from(seed, 'math-problems');
  return Array.from({ length: count }, () => {
    const p = mathProblemGenerator(rng);
    return { prompt: mathPrompt(p, rng), answer: p.answer };
  });
}

/** Symbols the problems use beyond the tokenizer's punctuation ("$15"). */
export const MATH_SYMBOLS = ['$'];

/** Every text the problems use, for the closed vocabulary of the reasoning bases. */
export function mathTexts(): string[] {
  const rng = Rng.from(0, 'math-vocabulary');
  return [
    ...INSTRUCTIONS,
    ...NAMES,
    ...Array.from({ length: 400 }, () => {
      const p = mathProblemGenerator(rng);
      return `${p.question} ${mathSolution(p)}`;
    }),
  ];
}
