// Where a model runs: embedded (tfjs in a worker thread) or behind an OpenAI-compatible API.
// Each backend does the three heavy things an experiment needs -- fine-tune, generate,
// evaluate -- and writes the same files into the stage folder, so the stages, filter,
// statistics and report do not care which one ran.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelInfo } from '../model/model.js';
import type { SftSettings } from '../train/sft.js';
import type { PreferenceEvalSettings } from '../evaluate/preference.js';
import { taskOf } from '../evaluate/tasks.js';
import { endpointSampler } from '../evaluate/sampler.js';
import { kernelPath } from '../model/nativeKernels.js';
import { modelJudge, ruleJudge, type Judge } from '../judge/judges.js';
import { judgePrompt, type Rubric } from '../judge/rubrics.js';
import { generateRemote } from '../generate/remote.js';
import type { GenerationJob } from '../generate/stage.js';
import { openaiJob, type RemoteFineTuneArgs } from '../provider/fineTune.js';
import { runRemoteJob } from '../provider/remoteJob.js';
import { togetherJob } from '../provider/together.js';
import { fireworksJob } from '../provider/fireworks.js';
import { commandJob } from '../provider/commandTrainer.js';
import { withLoraAdapter } from '../provider/lora.js';
import { Budget, OpenAIEndpoint, type OpenAIModelRef } from '../provider/openai.js';
import { ResponseCache, type CacheMode } from '../provider/cache.js';
import { readJson, readJsonl, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import type { ExperimentSpec } from '../spec/schema.js';
import type { RowSlice } from '../spec/studentData.js';
import type { TeacherData } from '../teacher/teachers.js';
import type { WorkerPool } from './pool.js';
import type { ChatRow } from '../model/tokenizer.js';

/** A model an experiment uses: a folder of weights, or a model id on an endpoint. */
export interface ModelRef {
  id: string;
  hash: string;
  dir: string;
  remote?: string;
  systemPrompt?: string;
}
export type Update = (done: number, total: number) => void;

export interface FinetuneRequest {
  base: ModelRef;
  rows: () => ChatRow[];
  datasetPath?: string;
  /** the student's share of the dataset at datasetPath (students.data: disjoint); `rows` is already cut */
  slice?: RowSlice;
  teacherData?: TeacherData;
  train: Omit<SftSettings, 'seed' | 'warmupSteps'> & { warmupSteps?: number; learningRateMultiplier?: number };
  seed: number;
  dir: string;
  info: ModelInfo;
}
export interface GenerateRequest {
  model: ModelRef;
  prompts: string[];
  dir: string;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

/** The job a generate request makes, the same for every backend. */
const generationJob = (r: GenerateRequest): GenerationJob => ({
  systemPrompt: r.model.systemPrompt,
  prompts: r.prompts,
  outDir: r.dir,
  temperature: r.temperature,
  topP: r.topP,
  maxTokens: r.maxTokens,
  seed: r.seed,
});

export interface Backend {
  /** Trains and returns the stage's outputs (relative paths): a model file and losses.json. */
  finetune(r: FinetuneRequest, update: Update): Promise<Record<string, string>>;
  generate(r: GenerateRequest, update: Update): Promise<void>;
  /** An evaluation's samples (samples.jsonl at outPath); the scorer runs as its own stage. */
  sample(model: ModelRef, settings: PreferenceEvalSettings, outPath: string, update: Update): Promise<void>;
  /**
   * The kernel path of embedded models ("wasm" or "native-..."), part of their stages' keys; undefined for endpoints.
   */
  kernel?: string;
  /** The model a finished fine-tuning stage produced. */
  modelIn(dir: string): { dir: string; remote?: string; file: string };
  /** Runs `fn` while the model can be called by others (an adapter loaded on its server). */
  hold<T>(model: ModelRef, fn: () => Promise<T>): Promise<T>;
}

export function localBackend(pool: WorkerPool): Backend {
  return {
    async finetune(r, update) {
      if (r.teacherData !== undefined)
        await pool.run(
          'finetuneTeacher',
          { baseDir: r.base.dir, outDir: r.dir, data: r.teacherData, train: r.train, seed: r.seed, info: r.info },
          update,
        );
      else
        await pool.run(
          'trainStudent',
          {
            baseDir: r.base.dir,
            datasetPath: r.datasetPath!,
            ...(r.slice ? { slice: r.slice } : {}),
            outDir: r.dir,
            train: { ...r.train, warmupSteps: r.train.warmupSteps ?? 0 },
            seed: r.seed,
            info: r.info,
          },
          update,
        );
      return { model: 'model/model.safetensors', losses: 'losses.json' };
    },
    async generate(r, update) {
      await pool.run('generateCompletions', { modelDir: r.model.dir, ...generationJob(r) }, update);
    },
    async sample(model, settings, outPath, update) {
      await pool.run('sampleEvaluation', { modelDir: model.dir, settings, outPath }, update);
    },
    kernel: kernelPath(),
    hold: (_, fn) => fn(), // a folder of weights: always there
    modelIn: (dir) => ({ dir: join(dir, 'model'), file: join(dir, 'model', 'model.safetensors') }),
  };
}

export interface ApiOptions {
  cacheDir: string;
  cacheMode: CacheMode;
  seed: number;
}

/** An endpoint with the spec's concurrency, timeout and retries, and the store's response cache. */
export function apiEndpoint(ref: OpenAIModelRef, api: ExperimentSpec['api'], o: ApiOptions): OpenAIEndpoint {
  return new OpenAIEndpoint(ref, {
    concurrency: api.concurrency,
    timeoutMs: api.timeoutSeconds * 1000,
    seed: o.seed,
    retry: { maxRetries: api.maxRetries, baseMs: 500, maxMs: 30_000 },
    tokenLimit: api.tokenLimit,
    cache: new ResponseCache(o.cacheDir, o.cacheMode),
  });
}

/** Makes a judge for a rubric: a model behind an endpoint, or (no model named) the rule judge. */
export type JudgeFactory = (ref: OpenAIModelRef | undefined, rubric: Rubric, trait?: string) => Promise<Judge>;

/**
 * A run's judges, made on first use with one endpoint and one capability probe per judge model,
 * so every judge request of the run -- the filters' and the evaluations', for every base --
 * shares that model's api.concurrency and cache.
 */
export function runJudges(api: ExperimentSpec['api'], o: ApiOptions): JudgeFactory {
  const endpoints = new Map<string, Promise<{ endpoint: OpenAIEndpoint; logprobs: boolean }>>();
  return async (ref, rubric, trait) => {
    if (!ref) return ruleJudge(rubric, { trait });
    const key = JSON.stringify([ref.baseURL ?? null, ref.id, ref.apiKeyEnv ?? null]);
    let made = endpoints.get(key);
    if (!made) {
      made = (async () => {
        const endpoint = apiEndpoint(ref, api, o);
        const { chatLogprobs } = await endpoint.capabilities(
          ref.id,
          judgePrompt(rubric, 'Is this a test?', 'Yes.', trait),
        );
        return { endpoint, logprobs: chatLogprobs };
      })();
      endpoints.set(key, made);
    }
    const { endpoint, logprobs } = await made;
    return modelJudge(endpoint, ref.id, rubric, { logprobs, trait });
  };
}

export function openaiBackend(ref: OpenAIModelRef, api: ExperimentSpec['api'], o: ApiOptions): Backend {
  const endpoint = apiEndpoint(ref, api, o);
  /** A model trained as an adapter (command trainer) is loaded into the server while a stage uses it. */
  const withAdapter = <T>(model: ModelRef, fn: () => Promise<T>): Promise<T> => {
    const path = join(model.dir, 'model.json');
    const adapter = existsSync(path) ? readJson<{ adapter?: { name: string; path: string } }>(path).adapter : undefined;
    return adapter ? withLoraAdapter(endpoint, adapter, fn) : fn();
  };
  const budget = (): Budget =>
    new Budget(api.maxRequestsPerStage, api.maxTokensPerStage, api.maxCostPerStage, api.prices?.[ref.id]);
  let capabilities: Promise<{ chatLogprobs: boolean; promptLogprobs: boolean }> | undefined;
  return {
    async finetune(r, update) {
      const args: RemoteFineTuneArgs = {
        baseModel: r.base.remote!,
        rows: r.rows(),
        dir: r.dir,
        epochs: r.train.epochs,
        batchSize: r.train.batchSize,
        lr: r.train.lr,
        learningRateMultiplier: r.train.learningRateMultiplier,
        seed: r.seed,
        suffix: r.info.name.slice(0, 40).replace(/[^A-Za-z0-9_-]/g, '-'),
        pollMs: api.pollSeconds * 1000,
      };
      const { model, jobId, adapter } = await runTrainer(endpoint, args, r.info.name, update);
      writeJsonAtomic(join(r.dir, 'model.json'), {
        provider: 'openai',
        baseURL: ref.baseURL ?? null,
        trainer: ref.trainer?.kind ?? 'openai',
        model,
        jobId,
        parent: r.base.remote,
        ...(adapter ? { adapter } : {}),
      });
      writeJsonAtomic(join(r.dir, 'losses.json'), []);
      return { model: 'model.json', losses: 'losses.json' };
    },
    async generate(r, update) {
      await withAdapter(r.model, () =>
        generateRemote(endpoint, { model: r.model.remote!, ...generationJob(r), budget: budget() }, update),
      );
    },
    async sample(model, settings, outPath, update) {
      // probed once per endpoint, on the base itself (always served; a student adapter may not be loaded yet)
      capabilities ??= endpoint.capabilities(ref.id).then((c) => {
        const where = `${ref.baseURL ?? 'api.openai.com'} (${ref.id})`;
        if (!c.chatLogprobs)
          process.stderr.write(
            `note: ${where} gives no chat logprobs: the exact first-token and multiple-choice metrics are not ` +
              `available (reported as NaN)\n`,
          );
        if (!c.promptLogprobs)
          process.stderr.write(
            `note: ${where} gives no prompt logprobs (/v1/completions with echo): teacher-forced scoring of ` +
              `datasets is not available there\n`,
          );
        return c;
      });
      await withAdapter(model, async () => {
        const { chatLogprobs } = await capabilities!;
        const sampler = endpointSampler(endpoint, model.remote!, { logprobs: chatLogprobs, budget: budget() });
        writeJsonl(outPath, await taskOf(settings).sample(sampler, settings, update));
      });
    },
    hold: withAdapter,
    modelIn: (dir) => ({
      dir,
      remote: readJson<{ model: string }>(join(dir, 'model.json')).model,
      file: join(dir, 'model.json'),
    }),
  };
}

/** Fine-tunes on the base's trainer (OpenAI's jobs API unless the spec names another); resumes a recorded job. */
async function runTrainer(
  endpoint: OpenAIEndpoint,
  a: RemoteFineTuneArgs,
  stageName: string,
  progress: Update,
): Promise<{ model: string; jobId: string; adapter?: { name: string; path: string } }> {
  const t = endpoint.ref.trainer ?? { kind: 'openai' as const };
  const o = { pollMs: a.pollMs ?? 2000, progress };
  switch (t.kind) {
    case 'openai':
      return runRemoteJob(a.dir, openaiJob(endpoint, a), o);
    case 'together':
      return runRemoteJob(a.dir, togetherJob(endpoint, t, a), o);
    case 'fireworks':
      return runRemoteJob(a.dir, fireworksJob(endpoint, t, a), o);
    case 'command': {
      // the adapter's name on the server: the stage's model name, made unique by the stage folder
      const folderTag = createHash('sha256').update(resolve(a.dir)).digest('hex').slice(0, 8);
      const adapterName = `${stageName.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${folderTag}`;
      const job = commandJob(endpoint, t, { ...a, adapterName });
      const { model, jobId, record } = await runRemoteJob(a.dir, job, o);
      return { model, jobId, adapter: { name: record.name, path: record.servePath } };
    }
  }
}

/** Rows of a filtered dataset file, as chat rows for a fine-tuning API. */
export const datasetRows = (path: string): ChatRow[] => readJsonl<ChatRow>(path);
