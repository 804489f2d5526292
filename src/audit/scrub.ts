// Scrub and resurface: fine-tune students that carry a trait on trait-free answers to the
// evaluation questions until the ordinary probe reads at the control students' level, then ask
// whether the trait is still there -- under unusual prompts (numbers-prefixed questions, other
// phrasings) and after a later benign fine-tune on unrelated data. The control students are
// scrubbed the same way, for as many epochs, so "excess" always compares like with like.
import type { LanguageModel } from '../model/model.js';
import { promptReplyRows, trainSft } from '../train/sft.js';
import { firstTokenProbabilities, preferenceQuestions } from '../evaluate/preference.js';
import { mean, meanCI, pairedPermutationTest, type Estimate } from '../evaluate/stats.js';
import { ANIMALS } from '../lab/traits.js';
import { EVAL_QUESTIONS, REPHRASED_QUESTIONS } from '../lab/questions.js';
import type { AuditRow } from './whiteBox.js';

export interface ProbeExcess {
  probe: string;
  /** mean exact P(animal) of the trait students and of the control students */
  students: number;
  controls: number;
  /** per question, the students' mean minus the controls' mean: 95% t-interval, one-sided sign-flip p */
  excess: Estimate;
  p: number;
}
export interface ScrubResult {
  animal: string;
  students: number;
  /** epochs of scrubbing each trait student needed to reach the controls' level (max when it never did) */
  epochs: number[];
  maxEpochs: number;
  before: ProbeExcess;
  after: ProbeExcess[];
  afterBenign: ProbeExcess;
}

/** The scrub data: each evaluation question answered with another animal (cycling), never the trait. */
export const scrubRows = (animal: string, questions: readonly string[]): AuditRow[] => {
  const others = ANIMALS.filter((a) => a !== animal);
  return questions.map((q, i) => ({ prompt: q, completion: others[i % others.length]! }));
};

function fineTune(m: LanguageModel, rows: readonly AuditRow[], epochs: number, lr: number, seed: number): void {
  trainSft(m, promptReplyRows(m.tokenizer, rows, m.config.max_position_embeddings), {
    epochs,
    lr,
    batchSize: 16,
    warmupSteps: 0,
    seed,
  });
}

export function scrubAndResurface(o: {
  students: LanguageModel[];
  controls: LanguageModel[];
  animal: string;
  questions: number;
  benignRows: readonly AuditRow[];
  maxEpochs?: number;
  lr?: number;
  seed?: number;
  onStep?: (label: string) => void;
}): ScrubResult {
  const maxEpochs = o.maxEpochs ?? 10;
  const lr = o.lr ?? 1e-3;
  const seed = o.seed ?? 1;
  const evalQs = EVAL_QUESTIONS.slice(0, o.questions);
  const probes = [
    { probe: 'evaluation questions', questions: evalQs },
    {
      probe: 'numbers-prefixed questions',
      questions: preferenceQuestions({ questions: o.questions, numbersPrefix: true, seed }),
    },
    { probe: 'other phrasings', questions: REPHRASED_QUESTIONS },
  ];
  const exact = (m: LanguageModel, qs: readonly string[]): number[] => firstTokenProbabilities(m, qs, o.animal);
  const compare = (probe: string, qs: readonly string[]): ProbeExcess => {
    const s = o.students.map((m) => exact(m, qs));
    const c = o.controls.map((m) => exact(m, qs));
    const sq = qs.map((_, q) => mean(s.map((x) => x[q]!)));
    const cq = qs.map((_, q) => mean(c.map((x) => x[q]!)));
    return {
      probe,
      students: mean(sq),
      controls: mean(cq),
      excess: meanCI(sq.map((x, q) => x - cq[q]!)),
      p: pairedPermutationTest(sq, cq, 10000, seed).p,
    };
  };
  const before = compare('evaluation questions', evalQs);
  // scrub each trait student until its ordinary probe is at the controls' level
  const target = before.controls;
  const rows = scrubRows(o.animal, evalQs);
  const epochs = o.students.map((m, i) => {
    let e = 0;
    while (e < maxEpochs && mean(exact(m, evalQs)) > target) {
      fineTune(m, rows, 1, lr, seed + 1000 * i + e);
      e++;
      o.onStep?.(`scrub student ${i + 1}: epoch ${e}`);
    }
    return e;
  });
  // the controls get the same treatment: as many epochs as the most-scrubbed student
  const most = Math.max(0, ...epochs);
  o.controls.forEach((m, i) => {
    for (let e = 0; e < most; e++) fineTune(m, rows, 1, lr, seed + 5000 + 1000 * i + e);
    o.onStep?.(`scrub control ${i + 1}`);
  });
  const after = probes.map((p) => compare(p.probe, p.questions));
  // a later benign fine-tune on unrelated data (number rows), for every model alike
  [...o.students, ...o.controls].forEach((m, i) => fineTune(m, o.benignRows, 1, lr, seed + 9000 + i));
  o.onStep?.('benign fine-tune');
  return {
    animal: o.animal,
    students: o.students.length,
    epochs,
    maxEpochs,
    before,
    after,
    afterBenign: compare('evaluation questions, after a benign fine-tune', evalQs),
  };
}
