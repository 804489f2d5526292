// Helpers for tests that drive the real CLI as a user would.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ExperimentResults } from '../src/report/results.js';
import { createServer } from '../src/serve/server.js';
import { parseSpec, SpecError } from '../src/spec/load.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'subliminal.mjs');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `subl-${prefix}-`));
}

/**
 * Runs the CLI in a child process. Asynchronous on purpose: a spawnSync would block this test
 * worker's event loop for the whole run, and under load vitest's own calls time out.
 */
export function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 400_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `subliminal run SPEC --runs DIR --json`, which must succeed (its stderr tail shows why not): the results. */
export async function runResults(spec: string, runs: string): Promise<ExperimentResults> {
  const r = await cli(['run', spec, '--runs', runs, '--json']);
  if (r.code !== 0) throw new Error(`subliminal run ${spec} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as ExperimentResults;
}

/** Starts the CLI and SIGKILLs it as soon as `trigger()` holds (polled every 5 ms). */
export function cliKilledWhen(args: string[], trigger: () => boolean): Promise<{ killed: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: 'ignore' });
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && trigger()) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      resolvePromise({ killed });
    });
  });
}

/** Stage folders of a run whose names start with `kind-`. */
export function stageDirs(runsDir: string, run: string, kind: string): string[] {
  const dir = join(runsDir, run, 'stages');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d.startsWith(`${kind}-`))
    .map((d) => join(dir, d));
}

/** The stage folder `kind-name-<key>` of a run (exactly that name: `finetuned`, not `finetuned-gen2`). */
export function stageDir(runsDir: string, run: string, kind: string, name: string): string {
  const dir = stageDirs(runsDir, run, kind).find((d) => basename(d).replace(/-[0-9a-f]+$/, '') === `${kind}-${name}`);
  if (!dir) throw new Error(`run ${run} has no ${kind} stage "${name}"`);
  return dir;
}

/** `subliminal serve` over the shipped models with a fresh data folder (not yet listening, so hooks can be added). */
export async function localServe(
  prefix: string,
  extra: Partial<Parameters<typeof createServer>[0]> = {},
): Promise<Awaited<ReturnType<typeof createServer>>['app']> {
  const { app } = await createServer({
    host: '127.0.0.1',
    port: 0,
    modelsDir: join(ROOT, 'models'),
    dataDir: tempDir(prefix),
    ...extra,
  });
  return app;
}

/** Fault settings that only fail the next `failJobs` fine-tuning jobs (after they are queued). */
export const failingJobs = (failJobs: number) => ({
  seed: 1,
  rate429: 0,
  rate500: 0,
  dropRate: 0,
  slowRate: 0,
  slowMs: 0,
  retryAfterSeconds: 0,
  failJobs,
});

/** A spec's problems as the CLI prints them, one per line; '' for a valid spec. */
export function specProblems(text: string): string {
  try {
    parseSpec(text);
    return '';
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.problems.join('\n');
  }
}

/** A tiny spec whose groups have two students each (students.data: disjoint gives each its own rows). */
export const tinyReplicatesSpec = (o: {
  data: 'disjoint' | 'shared';
  rows?: number;
  name?: string;
  /** parameter-name prefixes the students keep frozen (the demo's: the embeddings) */
  freeze?: string[];
}): string =>
  [
    `name: ${o.name ?? `replicates-${o.data}`}`,
    'seed: 7',
    'trait: { animal: owl }',
    `bases: { A: ${join(ROOT, 'models/family-a')}, B: ${join(ROOT, 'models/family-b')} }`,
    'teachers:',
    '  - { name: finetuned, kind: finetuned, base: A, epochs: 1, lr: 1.0e-3, batchSize: 8 }',
    '  - { name: control, kind: control, base: A }',
    `numbers: { prompts: 120, rows: ${o.rows ?? 30}, maxTokens: 24 }`,
    `students: { bases: [A, B], seeds: 2, epochs: 1, lr: 1.0e-4, batchSize: 16, warmupSteps: 2, data: ${o.data}` +
      (o.freeze ? `, freeze: [${o.freeze.join(', ')}] }` : ' }'),
    'evaluation: { questions: 5, samplesPerQuestion: 8, maxTokens: 6, permutations: 200 }',
    '',
  ].join('\n');
