// One worker's share of the MNIST experiment: for each of its models, the reference init, the
// teacher trained from it, and the four students distilled from that teacher on noise.
import { initBackend } from '../model/backend.js';
import { writeSafetensors } from '../model/safetensors.js';
import { join } from 'node:path';
import { loadMnist, noiseImages } from './data.js';
import { initMlpWeights, Mlp } from './mlp.js';
import { accuracy, allLogits, classCrossEntropy, distillationKl, trainGroup, type LogitSlice } from './train.js';
import type { MnistTrainSettings } from './settings.js';

/** The student conditions: which logits the loss sees, and whose reference init it starts from. */
export const STUDENT_CONDITIONS = [
  { id: 'student-aux-same', slice: 'aux', init: 'same' },
  { id: 'student-aux-cross', slice: 'aux', init: 'cross' },
  { id: 'student-all-same', slice: 'all', init: 'same' },
  { id: 'student-all-cross', slice: 'all', init: 'cross' },
] as const satisfies readonly { id: string; slice: LogitSlice; init: 'same' | 'cross' }[];
export const CONDITIONS = ['reference', 'teacher', ...STUDENT_CONDITIONS.map((c) => c.id)] as const;
export type Condition = (typeof CONDITIONS)[number];

export interface MnistShardArgs {
  models: number[];
  totalModels: number;
  train: MnistTrainSettings;
  trainLimit?: number;
  testLimit?: number;
  noiseCount: number;
  /** When set, every network's final weights are written here as safetensors. */
  saveDir?: string;
}
export interface ModelResult {
  model: number;
  crossInitFrom: number;
  accuracy: Record<Condition, number>;
  losses: Partial<Record<Condition, number[]>>;
}
/** Seconds spent in each phase, for the benchmark's per-epoch figures. */
export interface ShardTiming {
  networks: { teachers: number; students: number };
  teacherSeconds: number;
  studentSeconds: number;
  totalSeconds: number;
}
export interface ShardResult {
  models: ModelResult[];
  timing: ShardTiming;
}

/** The model whose reference init a cross-init student borrows: the next one, cyclically. */
export const crossInitOf = (model: number, total: number): number => (model + 1) % total;

export async function runMnistShard(
  a: MnistShardArgs,
  progress: (done: number, total: number) => void,
): Promise<ShardResult> {
  const t0 = performance.now();
  await initBackend();
  const train = loadMnist('train', a.trainLimit);
  const test = loadMnist('test', a.testLimit);
  const noise = noiseImages(a.noiseCount, a.train.seed);
  const teacherSteps = a.train.epochs * Math.ceil(train.count / a.train.batchSize);
  const studentSteps = a.train.epochs * Math.ceil(a.noiseCount / a.train.batchSize);
  const total = teacherSteps + studentSteps;
  const acc = (net: Mlp): number => accuracy(net, test.images, test.labels, test.count);
  const save = (net: Mlp, name: string): void => {
    if (a.saveDir) writeSafetensors(join(a.saveDir, `${name}.safetensors`), net.exportWeights(), { format: 'pt' });
  };

  const results: ModelResult[] = a.models.map((model) => ({
    model,
    crossInitFrom: crossInitOf(model, a.totalModels),
    accuracy: {} as Record<Condition, number>,
    losses: {},
  }));
  const teachers = a.models.map((m) => new Mlp(initMlpWeights(a.train.seed, m)));
  teachers.forEach((t, k) => {
    results[k]!.accuracy.reference = acc(t);
    save(t, `reference-${a.models[k]}`);
  });
  const t1 = performance.now();
  const teacherCurves = trainGroup(
    teachers.map((net) => ({ net, loss: classCrossEntropy(train.labels) })),
    train.images,
    train.count,
    a.train,
    'teacher',
    (d) => progress(d, total),
  );
  const teacherLogits = teachers.map((t, k) => {
    results[k]!.accuracy.teacher = acc(t);
    results[k]!.losses.teacher = teacherCurves[k];
    save(t, `teacher-${a.models[k]}`);
    const logits = allLogits(t, noise, a.noiseCount);
    t.dispose();
    return logits;
  });

  const students = a.models.flatMap((model, k) =>
    STUDENT_CONDITIONS.map((c) => ({
      k,
      condition: c.id,
      net: new Mlp(initMlpWeights(a.train.seed, c.init === 'same' ? model : crossInitOf(model, a.totalModels))),
      loss: distillationKl(teacherLogits[k]!, c.slice),
    })),
  );
  const t2 = performance.now();
  const studentCurves = trainGroup(students, noise, a.noiseCount, a.train, 'student', (d) =>
    progress(teacherSteps + d, total),
  );
  const t3 = performance.now();
  students.forEach((s, j) => {
    results[s.k]!.accuracy[s.condition] = acc(s.net);
    results[s.k]!.losses[s.condition] = studentCurves[j];
    save(s.net, `${s.condition}-${a.models[s.k]}`);
    s.net.dispose();
  });
  const seconds = (from: number, to: number): number => (to - from) / 1000;
  return {
    models: results,
    timing: {
      networks: { teachers: teachers.length, students: students.length },
      teacherSeconds: seconds(t1, t2),
      studentSeconds: seconds(t2, t3),
      totalSeconds: seconds(t0, performance.now()),
    },
  };
}
