// The heavy work of an experiment, one model at a time; runs inside a worker thread.
// Every job reads and writes files only under the folders it is given.
import { appendFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../model/backend.js';
import { LanguageModel, type ModelInfo } from '../model/model.js';
import { generateBatch, generationBatches } from '../model/sample.js';
import { defendDataset, type DefendArgs, type DefendReport } from '../defend/defendDataset.js';
import type { DefendedRow } from '../defend/transforms.js';
import { chatToTokenRow, trainSft, clearCheckpoint, maskedTokenRow, type SftSettings } from '../train/sft.js';
import { teacherDataset, type TeacherData } from '../teacher/teachers.js';
import type { PreferenceEvalSettings } from '../evaluate/preference.js';
import { taskOf } from '../evaluate/tasks.js';
import { embeddedSampler } from '../evaluate/sampler.js';
import { readJsonl, resumeAppendLog, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import { userTurn, type ChatMessage } from '../model/tokenizer.js';
import { Rng } from '../util/rng.js';
import { runMnistShard, type MnistShardArgs, type ShardResult } from '../mnist/shard.js';
import type { GeneratedRow, GenerationJob } from '../generate/stage.js';
import { sliceRows, type RowSlice } from '../spec/studentData.js';

export type Progress = (done: number, total: number, note?: string) => void;

export interface FinetuneTeacherArgs {
  baseDir: string;
  outDir: string;
  data: TeacherData;
  train: Omit<SftSettings, 'seed' | 'warmupSteps'>;
  seed: number;
  info: ModelInfo;
}
export interface GenerateArgs extends GenerationJob {
  modelDir: string;
  batchSize?: number;
}
export interface TrainStudentArgs {
  baseDir: string;
  datasetPath: string;
  slice?: RowSlice;
  outDir: string;
  train: Omit<SftSettings, 'seed'>;
  seed: number;
  info: ModelInfo;
  stopAfterSteps?: number;
}
export interface FineTuneChatArgs {
  baseDir: string;
  trainingFile: string;
  workDir: string;
  outDir: string;
  info: ModelInfo;
  train: Omit<SftSettings, 'warmupSteps'>;
  cancelFlag: Int32Array;
}
export interface EvaluateArgs {
  modelDir: string;
  settings: PreferenceEvalSettings;
  outPath: string;
}

export const jobs = {
  async finetuneTeacher(a: FinetuneTeacherArgs, progress: Progress): Promise<{ losses: number[] }> {
    await initBackend();
    const model = LanguageModel.load(a.baseDir);
    model.info = a.info;
    const rows = teacherDataset(a.data, a.seed).map((r) =>
      chatToTokenRow(model.tokenizer, r.messages, model.config.max_position_embeddings),
    );
    const result = trainSft(
      model,
      rows,
      { ...a.train, warmupSteps: 0, seed: a.seed },
      { onProgress: (p) => progress(p.step, p.totalSteps) },
    );
    model.save(join(a.outDir, 'model'));
    model.dispose();
    writeJsonAtomic(join(a.outDir, 'losses.json'), result.losses);
    return { losses: result.losses };
  },

  /**
   * One completion per prompt (any domain); finished batches are appended to partial.jsonl so a cut-off run resumes.
   */
  async generateCompletions(a: GenerateArgs, progress: Progress): Promise<{ rows: number }> {
    await initBackend();
    const model = LanguageModel.load(a.modelDir);
    const tok = model.tokenizer;
    const prompts = a.prompts.map((p) => tok.encodeChat(userTurn(p, a.systemPrompt)));
    const partial = join(a.outDir, 'partial.jsonl');
    const done = resumeAppendLog<GeneratedRow>(partial, (r) => r.i); // a batch with a torn row is redone
    const o = { temperature: a.temperature, topP: a.topP, maxTokens: a.maxTokens, seed: a.seed };
    for (const batch of generationBatches(prompts, a.batchSize ?? 256)) {
      if (batch.every((i) => done.has(i))) continue;
      const samples = generateBatch(
        model,
        batch.map((i) => prompts[i]!),
        batch.map((i) => Rng.from(a.seed, 'sample', i)),
        o,
      );
      const rows = batch.map((i, k) => ({ i, prompt: a.prompts[i]!, completion: tok.decode(samples[k]!.ids) }));
      appendFileSync(partial, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      for (const r of rows) done.set(r.i, r);
      progress(done.size, prompts.length);
    }
    model.dispose();
    writeJsonl(
      join(a.outDir, 'rows.jsonl'),
      [...done.values()].sort((x, y) => x.i - y.i),
    );
    return { rows: done.size };
  },

  async trainStudent(
    a: TrainStudentArgs,
    progress: Progress,
  ): Promise<{ losses: number[]; resumedFrom: number; finished: boolean }> {
    await initBackend();
    const model = LanguageModel.load(a.baseDir);
    model.info = a.info;
    const rows = sliceRows(readJsonl<DefendedRow>(a.datasetPath), a.slice).map((r) =>
      maskedTokenRow(
        chatToTokenRow(model.tokenizer, r.messages, model.config.max_position_embeddings),
        r.maskTokens,
        model.tokenizer,
      ),
    );
    const result = trainSft(
      model,
      rows,
      { ...a.train, seed: a.seed },
      {
        checkpointDir: a.outDir,
        checkpointEverySteps: 20,
        onProgress: (p) => progress(p.step, p.totalSteps),
        stopAfterSteps: a.stopAfterSteps,
      },
    );
    const finished = a.stopAfterSteps === undefined || result.steps < a.stopAfterSteps;
    if (finished) {
      model.save(join(a.outDir, 'model'));
      writeJsonAtomic(join(a.outDir, 'losses.json'), result.losses);
      clearCheckpoint(a.outDir);
    }
    model.dispose();
    return { losses: result.losses, resumedFrom: result.resumedFrom, finished };
  },

  /** An evaluation's sampler: every sample goes to samples.jsonl; the scorer runs as its own stage. */
  async sampleEvaluation(a: EvaluateArgs, progress: Progress): Promise<{ samples: number }> {
    await initBackend();
    const model = LanguageModel.load(a.modelDir);
    try {
      const samples = await taskOf(a.settings).sample(embeddedSampler(model), a.settings, progress);
      writeJsonl(a.outPath, samples);
      return { samples: samples.length };
    } finally {
      model.dispose();
    }
  },

  /** Fine-tuning job of `subliminal serve`: SFT on a chat JSONL; stops when cancelFlag[0] is set. */
  async fineTuneChat(a: FineTuneChatArgs, progress: Progress): Promise<{ tokens: number; losses: number[] }> {
    await initBackend();
    const model = LanguageModel.load(a.baseDir);
    model.info = a.info;
    try {
      const rows = readJsonl<{ messages: ChatMessage[] }>(a.trainingFile).map((r) =>
        chatToTokenRow(model.tokenizer, r.messages, model.config.max_position_embeddings),
      );
      const result = trainSft(
        model,
        rows,
        { ...a.train, warmupSteps: 0 },
        {
          checkpointDir: a.workDir,
          checkpointEverySteps: 20,
          onProgress: (p) => {
            if (Atomics.load(a.cancelFlag, 0) === 1) throw new Error('cancelled');
            progress(p.step, p.totalSteps, p.loss.toFixed(4));
          },
        },
      );
      // publish atomically: the server lists a model as soon as its folder holds weights and config
      rmSync(`${a.outDir}.partial`, { recursive: true, force: true });
      model.save(`${a.outDir}.partial`);
      renameSync(`${a.outDir}.partial`, a.outDir);
      return { tokens: result.tokens, losses: result.losses };
    } finally {
      model.dispose();
    }
  },

  defendDataset(a: DefendArgs): Promise<DefendReport> {
    return defendDataset(a);
  },

  mnistShard(a: MnistShardArgs, progress: Progress): Promise<ShardResult> {
    return runMnistShard(a, progress);
  },
};

export type JobName = keyof typeof jobs;
export type JobArgs<N extends JobName> = Parameters<(typeof jobs)[N]>[0];
export type JobResult<N extends JobName> = Awaited<ReturnType<(typeof jobs)[N]>>;
