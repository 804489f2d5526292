// Run directories and DVC-style stages: a stage's output folder is keyed by the hash of its
// kind, name, inputs (config + content hashes of what it reads), the version of the code it
// runs and, for the embedded models, the kernel path (native or wasm). A finished stage has a
// manifest (done.json) with its outputs' content hashes and is skipped on rerun; an unfinished
// one keeps its partial files so the stage can resume. The inputs object that is hashed is the
// one handed to the work, so the key and the work cannot drift apart.
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { hashConfig, hashFile } from '../util/hash.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/atomic.js';
import { RunIndex } from './index.js';
import { withStageClock } from '../util/stageClock.js';
import { codeVersion } from '../util/codeVersion.js';

/** A kind of stage: its name and the modules (under src/) whose code it runs. Each lives beside its domain. */
export interface StageDef {
  kind: string;
  code: readonly string[];
}
/** One stage of a run: its kind, a name unique in the run, its inputs and, for embedded models, the kernel path. */
export interface StageSpec<In = unknown> {
  def: StageDef;
  name: string;
  inputs: In;
  kernel?: string;
}
export interface StageOutput {
  path: string;
  sha256: string;
}
export interface StageManifest {
  key: string;
  kind: string;
  name: string;
  inputs: unknown;
  codeVersion: string;
  kernel: string | null;
  outputs: Record<string, StageOutput>;
  summary: unknown;
  seconds: number;
  finishedAt: string;
}
export interface RunStoreOptions {
  /** code versions by stage kind instead of the hashed source (tests use this to play a code change) */
  codeVersions?: Record<string, string>;
}

/** Run names: letters, digits, dot, dash, underscore (as specs allow), never "." or "..". */
export const isRunName = (run: string): boolean => /^[A-Za-z0-9._-]{1,200}$/.test(run) && run !== '.' && run !== '..';

export class InvalidRunName extends Error {
  readonly statusCode = 400;
  constructor(run: string) {
    super(`invalid run name ${JSON.stringify(run)}: use letters, digits, dot, dash and underscore`);
  }
}

export class RunStore {
  readonly root: string;
  private indexHandle?: RunIndex;
  /** the stages this store ran (not skipped) since it was opened, in order */
  readonly executed: { kind: string; name: string; key: string }[] = [];
  constructor(
    root: string,
    private readonly options: RunStoreOptions = {},
  ) {
    this.root = resolve(root);
  }

  codeVersionOf(def: StageDef): string {
    return this.options.codeVersions?.[def.kind] ?? codeVersion(def.code);
  }

  get index(): RunIndex {
    return (this.indexHandle ??= new RunIndex(join(this.root, 'index.sqlite')));
  }
  close(): void {
    this.indexHandle?.close();
    this.indexHandle = undefined;
  }

  /** A run's folder; a name that could leave the store ("..", a slash, a drive) is refused. */
  runDir(run: string): string {
    if (!isRunName(run)) throw new InvalidRunName(run);
    return join(this.root, run);
  }
  stageKey(s: StageSpec): string {
    return hashConfig({
      kind: s.def.kind,
      name: s.name,
      inputs: s.inputs,
      code: this.codeVersionOf(s.def),
      kernel: s.kernel ?? null,
    }).slice(0, 16);
  }
  stageDir(run: string, s: StageSpec): string {
    return join(this.runDir(run), 'stages', `${s.def.kind}-${s.name}-${this.stageKey(s).slice(0, 10)}`);
  }
  manifest(dir: string): StageManifest | undefined {
    return readJsonIfExists<StageManifest>(join(dir, 'done.json'));
  }

  /**
   * Runs a stage unless its manifest exists. `work` gets the stage folder (possibly holding
   * partial output from a cut-off attempt) and returns output files (relative paths) + a summary.
   */
  async stage<In>(
    run: string,
    s: StageSpec<In>,
    work: (dir: string, inputs: In) => Promise<{ outputs: Record<string, string>; summary?: unknown }>,
  ): Promise<StageManifest & { dir: string; skipped: boolean }> {
    const dir = this.stageDir(run, s);
    const key = this.stageKey(s);
    const kind = s.def.kind;
    const done = this.manifest(dir);
    if (done && (await this.outputsIntact(dir, done))) return { ...done, dir, skipped: true };
    this.executed.push({ kind, name: s.name, key });
    mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const row = { key, run, kind, name: s.name, dir: relative(this.root, dir) };
    this.index.recordStage({ ...row, status: 'running', started_at: new Date(started).toISOString() });
    // seconds count from when a worker took the stage (or from now, for work on this thread)
    const {
      result: { outputs, summary },
      startedAt,
    } = await withStageClock(async (clock) => ({
      result: await work(dir, s.inputs),
      startedAt: clock.startedAt ?? started,
    }));
    const hashed: Record<string, StageOutput> = {};
    for (const [name, path] of Object.entries(outputs))
      hashed[name] = { path, sha256: await hashFile(join(dir, path)) };
    const manifest: StageManifest = {
      key,
      kind,
      name: s.name,
      inputs: s.inputs,
      codeVersion: this.codeVersionOf(s.def),
      kernel: s.kernel ?? null,
      outputs: hashed,
      summary: summary ?? null,
      seconds: (Date.now() - startedAt) / 1000,
      finishedAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(dir, 'done.json'), manifest);
    this.index.recordStage({ ...row, status: 'done', finished_at: manifest.finishedAt, seconds: manifest.seconds });
    return { ...manifest, dir, skipped: false };
  }

  /** A manifest counts only while the files it lists still exist with the recorded hashes. */
  private async outputsIntact(dir: string, m: StageManifest): Promise<boolean> {
    for (const o of Object.values(m.outputs)) {
      const p = join(dir, o.path);
      if (!existsSync(p) || (await hashFile(p)) !== o.sha256) return false;
    }
    return true;
  }
}
