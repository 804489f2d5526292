// The user's own trainer (a TRL, Axolotl or Unsloth script on their cluster) run as a command:
// it gets the stage's chat JSONL, the hyperparameters and an output folder through
// placeholders in its argv (and SUBLIMINAL_* environment variables), and must leave a PEFT LoRA
// adapter there, which is then loaded into the base's vLLM server by name. Its output goes to
// trainer.log in the stage folder. A command that fails records nothing: the rerun runs it again.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeJsonl } from '../util/atomic.js';
import { readAdapterConfig } from '../model/lora.js';
import type { OpenAIEndpoint } from './openai.js';
import type { RemoteFineTuneArgs } from './fineTune.js';
import type { JobProtocol, JobRecord } from './remoteJob.js';
import { loadLoraAdapter } from './lora.js';
import type { TrainerSpec } from '../spec/schema.js';

type CommandTrainer = Extract<TrainerSpec, { kind: 'command' }>;
export interface AdapterRecord extends JobRecord {
  /** the adapter's name on the server */
  name: string;
  /** the adapter folder as the server sees it */
  servePath: string;
}

function runCommand(argv: string[], env: Record<string, string>, logPath: string, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const log = createWriteStream(logPath);
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      log.end();
      fail(new Error(`trainer command ${JSON.stringify(argv[0])} could not start: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end(() => {
        if (code === 0) return done();
        const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-8).join('\n');
        fail(
          new Error(
            `trainer command ${argv.join(' ')} ${signal ? `was stopped (${signal})` : `exited with ${code}`}; ` +
              `its last lines (all in ${logPath}):\n${tail}`,
          ),
        );
      });
    });
  });
}

export function commandJob(
  endpoint: OpenAIEndpoint,
  t: CommandTrainer,
  a: RemoteFineTuneArgs & { adapterName: string },
): JobProtocol<AdapterRecord> {
  return {
    provider: 'command',
    async start() {
      const data = resolve(a.dir, 'train.jsonl');
      const output = resolve(a.dir, 'adapter');
      writeJsonl(data, a.rows);
      if (existsSync(output)) rmSync(output, { recursive: true, force: true });
      const values: Record<string, string> = {
        data,
        output,
        base: a.baseModel,
        epochs: String(a.epochs),
        batch_size: String(a.batchSize),
        lr: String(a.lr ?? ''),
        seed: String(a.seed),
        name: a.adapterName,
      };
      const fill = (s: string): string => s.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
      const env = Object.fromEntries(Object.entries(values).map(([k, v]) => [`SUBLIMINAL_${k.toUpperCase()}`, v]));
      await runCommand(t.command.map(fill), env, join(a.dir, 'trainer.log'), t.timeoutMinutes * 60_000);
      readAdapterConfig(output); // the command must have left an adapter
      return { jobId: `command:${a.adapterName}`, name: a.adapterName, servePath: fill(t.servePath ?? '{output}') };
    },
    async poll(record) {
      return { status: 'succeeded', model: record.name };
    },
    async publish(record) {
      await loadLoraAdapter(endpoint, record.name, record.servePath);
      return record.name;
    },
  };
}
