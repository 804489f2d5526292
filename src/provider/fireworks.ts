// Fine-tuning through Fireworks' API: a dataset created and uploaded (waited on until READY), a
// supervised fine-tuning job (camelCase fields, JOB_STATE_* states, resource names), and the
// output model loaded as a deployed model (serverless, or onto the spec's deployment) so the
// base's inference endpoint can call it by its name accounts/{a}/models/{m}.
import { createHash } from 'node:crypto';
import type { OpenAIEndpoint } from './openai.js';
import type { HttpRequest } from './http.js';
import { jsonlText, type RemoteFineTuneArgs } from './fineTune.js';
import type { JobProtocol, JobRecord, JobState } from './remoteJob.js';
import type { TrainerSpec } from '../spec/schema.js';

type FireworksTrainer = Extract<TrainerSpec, { kind: 'fireworks' }>;
interface FireworksJob {
  name: string;
  state: string;
  outputModel?: string;
  status?: { code?: string; message?: string };
  jobProgress?: { percent?: number };
}

const SUCCEEDED = new Set(['JOB_STATE_COMPLETED', 'JOB_STATE_EARLY_STOPPED']);
const FAILED = new Set(['JOB_STATE_FAILED', 'JOB_STATE_FAILED_CLEANING_UP', 'JOB_STATE_EXPIRED']);
const CANCELLED = new Set(['JOB_STATE_CANCELLED', 'JOB_STATE_CANCELLING', 'JOB_STATE_DELETING']);

/** A Fireworks resource id from a stage's name: lowercase letters, digits and dashes, unique by content hash. */
const resourceId = (stem: string, content: string): string =>
  `${stem
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 40)}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`.replace(/^-+/, '');

export function fireworksJob(
  endpoint: OpenAIEndpoint,
  t: FireworksTrainer,
  a: RemoteFineTuneArgs,
): JobProtocol<JobRecord & { dataset: string; outputModel: string }> {
  const call = async <T>(path: string, r?: HttpRequest): Promise<T> =>
    (await endpoint.rest<T>(t.baseURL, path, r, { apiKeyEnv: t.apiKeyEnv }))!;
  /** A create call whose 409 (it exists, from an earlier run) is an answer, not a conflict to retry. */
  const create = <T>(path: string, json: object): Promise<T | undefined> =>
    endpoint.rest<T>(t.baseURL, path, { json }, { apiKeyEnv: t.apiKeyEnv, accept: (e) => e.status === 409 });
  const account = `v1/accounts/${t.account}`;
  const sleep = (): Promise<void> => new Promise((r) => setTimeout(r, a.pollMs ?? 2000));
  return {
    provider: 'Fireworks',
    async start() {
      const text = jsonlText(a.rows);
      const id = resourceId(a.suffix, `${text}\n${a.seed}`);
      // a dataset left by a run cut off before its job was created is reused (409: it exists)
      await create(`${account}/datasets`, {
        datasetId: id,
        dataset: { displayName: a.suffix, exampleCount: String(a.rows.length), userUploaded: {} },
      });
      const ready = async (): Promise<boolean> =>
        (await call<{ state: string }>(`${account}/datasets/${id}`)).state === 'READY';
      if (!(await ready())) {
        const form = new FormData();
        form.append('file', new Blob([text], { type: 'application/jsonl' }), `${id}.jsonl`);
        await call(`${account}/datasets/${id}:upload`, { form });
        while (!(await ready())) await sleep();
      }
      const outputModel = `accounts/${t.account}/models/${id}`;
      // batch size is left to Fireworks: its batchSize counts tokens, not rows
      const job = await call<FireworksJob>(`${account}/supervisedFineTuningJobs`, {
        json: {
          dataset: `accounts/${t.account}/datasets/${id}`,
          baseModel: a.baseModel,
          outputModel,
          displayName: a.suffix,
          epochs: a.epochs,
          learningRate: a.lr,
          loraRank: t.loraRank,
        },
      });
      return { jobId: job.name, dataset: id, outputModel };
    },
    async poll({ jobId, outputModel }): Promise<JobState> {
      const job = await call<FireworksJob>(`v1/${jobId}`);
      if (SUCCEEDED.has(job.state)) return { status: 'succeeded', model: job.outputModel ?? outputModel };
      if (FAILED.has(job.state)) return { status: 'failed', error: job.status?.message };
      if (CANCELLED.has(job.state)) return { status: 'cancelled' };
      return { status: 'running', step: job.jobProgress?.percent, totalSteps: 100 };
    },
    async publish(_record, model) {
      let deployed = await create<{ name: string; state?: string }>(`${account}/deployedModels`, {
        model,
        ...(t.deployment ? { deployment: t.deployment } : { serverless: true }),
      }); // undefined: loaded by an earlier run
      // loading takes minutes on Fireworks: wait until the model answers
      while (deployed && deployed.state !== undefined && deployed.state !== 'DEPLOYED') {
        await sleep();
        deployed = await call<{ name: string; state?: string }>(`v1/${deployed.name}`);
      }
      return model;
    },
  };
}
