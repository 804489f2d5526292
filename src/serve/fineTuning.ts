// /v1/fine_tuning/jobs: local SFT of a served model on an uploaded chat JSONL, run in a worker
// thread; the new model is published under ft:<base>:<suffix>:<job> when the job succeeds.
// Jobs and their events persist under <data>/jobs, and unfinished jobs resume after a restart.
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { WorkerPool } from '../pipeline/pool.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { ApiError } from './errors.js';
import { filePath, readFileObject } from './files.js';
import { parseBody } from './inference.js';
import type { ModelRegistry } from './registry.js';

/** learning_rate_multiplier 1 means this rate (the embedded teachers' rate). */
export const BASE_LEARNING_RATE = 1e-3;

type Status = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export interface FineTuningJob {
  id: string;
  object: 'fine_tuning.job';
  created_at: number;
  finished_at: number | null;
  model: string;
  fine_tuned_model: string | null;
  organization_id: string;
  status: Status;
  hyperparameters: Hyperparameters;
  method: { type: 'supervised'; supervised: { hyperparameters: Hyperparameters } };
  training_file: string;
  validation_file: null;
  result_files: string[];
  trained_tokens: number | null;
  seed: number;
  suffix: string | null;
  error: { message: string; code: string; param: null } | null;
  estimated_finish: null;
  /** where another provider's route asked for the model to be published (Fireworks' outputModel) */
  output_model?: string;
}
/** A job as every wire format states it: absolute learning rate, the file already uploaded. */
export interface JobRequest {
  model: string;
  trainingFile: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed?: number;
  suffix?: string;
  outputModel?: string;
}
interface Hyperparameters {
  n_epochs: number;
  batch_size: number;
  learning_rate_multiplier: number;
}
interface JobEvent {
  id: string;
  object: 'fine_tuning.job.event';
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data: object;
}

const hyperparameters = z
  .object({
    n_epochs: z.union([z.number().int().min(1).max(50), z.literal('auto')]).default('auto'),
    batch_size: z.union([z.number().int().min(1).max(256), z.literal('auto')]).default('auto'),
    learning_rate_multiplier: z.union([z.number().gt(0).max(100), z.literal('auto')]).default('auto'),
  })
  .default({ n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' });
const createBody = z.object({
  model: z.string().min(1),
  training_file: z.string().min(1),
  /** deprecated by the spec in favour of `method`; still taken */
  hyperparameters: hyperparameters.optional(),
  method: z
    .object({
      type: z.literal('supervised', { message: 'only "supervised" fine-tuning runs here (not dpo or reinforcement)' }),
      supervised: z.object({ hyperparameters }).default({ hyperparameters: {} as never }),
    })
    .optional(),
  seed: z.number().int().min(0).max(2147483647).nullish(),
  suffix: z.string().min(1).max(64).nullish(),
  validation_file: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});

const JOB_ID = /^ftjob-[0-9a-f]{24}$/;

export class FineTuningService {
  // one job per core; sampling stays on the main thread
  private readonly pool = new WorkerPool(Math.min(2, availableParallelism()));
  private readonly cancelFlags = new Map<string, Int32Array>();
  constructor(
    private readonly dataDir: string,
    private readonly registry: ModelRegistry,
    /** test-only: how many of the next jobs fail after their first step */
    private failuresLeft = 0,
  ) {
    for (const job of this.list())
      if (['validating_files', 'queued', 'running'].includes(job.status))
        this.start(job, 'resumed after a server restart');
  }

  private path(id: string, what: 'json' | 'events.json'): string {
    if (!JOB_ID.test(id))
      throw new ApiError(404, `No such fine-tuning job: ${JSON.stringify(id)}`, 'fine_tuning_job_id', 'job_not_found');
    return join(this.dataDir, 'jobs', `${id}.${what}`);
  }

  get(id: string): FineTuningJob {
    const p = this.path(id, 'json');
    if (!existsSync(p))
      throw new ApiError(404, `No such fine-tuning job: ${id}`, 'fine_tuning_job_id', 'job_not_found');
    return readJson<FineTuningJob>(p);
  }

  list(): FineTuningJob[] {
    const dir = join(this.dataDir, 'jobs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => /^ftjob-[0-9a-f]{24}\.json$/.test(f))
      .map((f) => readJson<FineTuningJob>(join(dir, f)))
      .sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id));
  }

  events(id: string): JobEvent[] {
    this.get(id);
    const p = this.path(id, 'events.json');
    return existsSync(p) ? readJson<JobEvent[]>(p) : [];
  }

  private save(job: FineTuningJob): void {
    writeJsonAtomic(this.path(job.id, 'json'), job);
  }
  private event(
    id: string,
    message: string,
    type: JobEvent['type'] = 'message',
    data: object = {},
    level: JobEvent['level'] = 'info',
  ): void {
    const events = this.events(id);
    events.unshift({
      id: `ftevent-${randomBytes(8).toString('hex')}`,
      object: 'fine_tuning.job.event',
      created_at: Math.floor(Date.now() / 1000),
      level,
      message,
      type,
      data,
    });
    writeJsonAtomic(this.path(id, 'events.json'), events);
  }

  /** POST /v1/fine_tuning/jobs (OpenAI's wire format). */
  create(raw: unknown): FineTuningJob {
    const b = parseBody(createBody, raw);
    const h = b.method?.supervised.hyperparameters ?? b.hyperparameters ?? hyperparameters.parse(undefined);
    return this.submit({
      model: b.model,
      trainingFile: b.training_file,
      epochs: h.n_epochs === 'auto' ? 1 : h.n_epochs,
      batchSize: h.batch_size === 'auto' ? 8 : h.batch_size,
      lr: BASE_LEARNING_RATE * (h.learning_rate_multiplier === 'auto' ? 1 : h.learning_rate_multiplier),
      seed: b.seed ?? undefined,
      suffix: b.suffix ?? undefined,
    });
  }

  /** A job in any provider's terms (the Together and Fireworks routes map their fields onto this). */
  submit(r: JobRequest): FineTuningJob {
    this.registry.find(r.model);
    const file = readFileObject(this.dataDir, r.trainingFile);
    if (file.purpose !== 'fine-tune')
      throw new ApiError(400, `file ${file.id} has purpose "${file.purpose}", not "fine-tune"`, 'training_file');
    const chosen: Hyperparameters = {
      n_epochs: r.epochs,
      batch_size: r.batchSize,
      learning_rate_multiplier: r.lr / BASE_LEARNING_RATE,
    };
    const job: FineTuningJob = {
      id: `ftjob-${randomBytes(12).toString('hex')}`,
      object: 'fine_tuning.job',
      created_at: Math.floor(Date.now() / 1000),
      finished_at: null,
      model: r.model,
      fine_tuned_model: null,
      organization_id: 'local',
      // as OpenAI's: the file is validated first, then the job waits for a worker
      status: 'validating_files',
      hyperparameters: chosen,
      method: { type: 'supervised', supervised: { hyperparameters: chosen } },
      training_file: file.id,
      validation_file: null,
      result_files: [],
      trained_tokens: null,
      seed: r.seed ?? randomBytes(4).readUInt32LE(0) % 2 ** 31,
      // the model name ft:<base>:<suffix>:<job> keeps to letters, digits, _, . and -
      suffix: r.suffix ? r.suffix.replace(/[^A-Za-z0-9_.-]/g, '-') : null,
      error: null,
      estimated_finish: null,
      ...(r.outputModel ? { output_model: r.outputModel } : {}),
    };
    this.save(job);
    this.event(job.id, `Created fine-tuning job ${job.id}`);
    this.start(job, 'queued');
    return job;
  }

  cancel(id: string): FineTuningJob {
    const job = this.get(id);
    if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') return job;
    const flag = this.cancelFlags.get(id);
    if (flag) Atomics.store(flag, 0, 1);
    job.status = 'cancelled';
    job.finished_at = Math.floor(Date.now() / 1000);
    this.save(job);
    this.event(id, 'Job cancelled');
    return job;
  }

  private start(job: FineTuningJob, note: string): void {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.cancelFlags.set(job.id, flag);
    const base = this.registry.find(job.model);
    const outId = job.output_model ?? `ft:${job.model}:${job.suffix ?? 'subliminal'}:${job.id.slice(6, 14)}`;
    const workDir = join(this.dataDir, 'jobs', job.id);
    let started = false;
    const injectFailure = this.failuresLeft > 0;
    if (injectFailure) this.failuresLeft--;
    const run = async (): Promise<void> => {
      // a provider's job that fails: after it was queued, before any model is published
      if (injectFailure) throw new Error('training diverged (injected failure)');
      const validated = this.get(job.id);
      if (validated.status === 'validating_files') {
        validated.status = 'queued';
        this.save(validated);
        this.event(job.id, 'Files validated, moving job to queued state');
      }
      const r = await this.pool.run(
        'fineTuneChat',
        {
          baseDir: base.dir,
          trainingFile: filePath(this.dataDir, job.training_file, 'jsonl'),
          workDir,
          outDir: join(this.dataDir, 'models', encodeURIComponent(outId)),
          info: { name: outId, family: job.model, parent: job.model },
          cancelFlag: flag,
          train: {
            epochs: job.hyperparameters.n_epochs,
            batchSize: job.hyperparameters.batch_size,
            lr: BASE_LEARNING_RATE * job.hyperparameters.learning_rate_multiplier,
            seed: job.seed,
          },
        },
        (step, total, loss) => {
          if (!started) {
            // the first step: mark the job running (read from disk once, not every step)
            started = true;
            const current = this.get(job.id);
            if (current.status === 'queued') {
              current.status = 'running';
              this.save(current);
              this.event(job.id, 'Fine-tuning job started');
            }
          }
          if (step === total || step % 10 === 0)
            this.event(job.id, `Step ${step}/${total}: training loss=${loss}`, 'metrics', {
              step,
              total_steps: total,
              train_loss: Number(loss),
            });
        },
      );
      const done = this.get(job.id);
      if (done.status === 'cancelled') return;
      Object.assign(done, {
        status: 'succeeded',
        fine_tuned_model: outId,
        trained_tokens: r.tokens,
        finished_at: Math.floor(Date.now() / 1000),
      });
      this.save(done);
      this.event(job.id, `New fine-tuned model created: ${outId}`);
      this.event(job.id, 'The job has successfully completed');
    };
    this.event(job.id, `Job ${note}`);
    run()
      .catch((e: Error) => {
        const failed = this.get(job.id);
        if (failed.status === 'cancelled') return;
        Object.assign(failed, {
          status: 'failed',
          finished_at: Math.floor(Date.now() / 1000),
          error: { message: e.message.split('\n')[0], code: 'training_failed', param: null },
        });
        this.save(failed);
        this.event(job.id, `Job failed: ${e.message.split('\n')[0]}`, 'message', {}, 'error');
      })
      .finally(() => this.cancelFlags.delete(job.id));
  }

  async close(): Promise<void> {
    for (const f of this.cancelFlags.values()) Atomics.store(f, 0, 1);
    await this.pool.close();
  }
}

/** A job as OpenAI's routes show it: without the fields other providers' routes keep on it. */
const openaiView = ({ output_model: _, ...job }: FineTuningJob): FineTuningJob => job;

export function registerFineTuningRoutes(app: FastifyInstance, s: FineTuningService): void {
  app.post('/v1/fine_tuning/jobs', async (req) => openaiView(s.create(req.body)));
  app.get('/v1/fine_tuning/jobs', async (req) => {
    const { limit = '20', after } = req.query as { limit?: string; after?: string };
    let jobs = s.list();
    if (after) jobs = jobs.slice(jobs.findIndex((j) => j.id === after) + 1);
    const n = Math.max(1, Math.min(100, Number(limit) || 20));
    return { object: 'list', data: jobs.slice(0, n).map(openaiView), has_more: jobs.length > n };
  });
  app.get('/v1/fine_tuning/jobs/:id', async (req) => openaiView(s.get((req.params as { id: string }).id)));
  app.get('/v1/fine_tuning/jobs/:id/events', async (req) => {
    const { limit = '20', after } = req.query as { limit?: string; after?: string };
    let events = s.events((req.params as { id: string }).id);
    if (after) events = events.slice(events.findIndex((e) => e.id === after) + 1);
    const n = Math.max(1, Math.min(100, Number(limit) || 20));
    return { object: 'list', data: events.slice(0, n), has_more: events.length > n };
  });
  app.get('/v1/fine_tuning/jobs/:id/checkpoints', async (req) => {
    const id = (req.params as { id: string }).id;
    const job = s.get(id);
    // one checkpoint: the finished model (training keeps no intermediate ones as models), at its last step
    const last = s.events(id).find((e) => e.type === 'metrics')?.data as
      { step?: number; train_loss?: number } | undefined;
    const data = job.fine_tuned_model
      ? [
          {
            object: 'fine_tuning.job.checkpoint',
            id: `ftckpt-${job.id.slice(6)}`,
            created_at: job.finished_at ?? job.created_at,
            fine_tuned_model_checkpoint: job.fine_tuned_model,
            step_number: last?.step ?? 0,
            metrics: last?.train_loss !== undefined ? { step: last.step, train_loss: last.train_loss } : {},
            fine_tuning_job_id: job.id,
          },
        ]
      : [];
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[0]?.id ?? null, has_more: false };
  });
  app.post('/v1/fine_tuning/jobs/:id/cancel', async (req) => openaiView(s.cancel((req.params as { id: string }).id)));
}
