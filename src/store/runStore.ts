// Run directories and DVC-style stages: a stage's output folder is keyed by the hash of its
// kind, name and inputs (config + content hashes of what it reads). A finished stage has a
// manifest (done.json) with its outputs' content hashes and is skipped on rerun; an unfinished
// one keeps its partial files so the stage can resume.
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { hashConfig, hashFile } from '../util/hash.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/atomic.js';
import { RunIndex } from './index.js';
import { withStageClock } from '../util/stageClock.js';

export interface StageSpec { kind: string; name: string; inputs: unknown }
export interface StageOutput { path: string; sha256: string }
export interface StageManifest {
  key: string; kind: string; name: string; inputs: unknown;
  outputs: Record<string, StageOutput>; summary: unknown; seconds: number; finishedAt: string;
}

export class RunStore {
  readonly root: string;
  private indexHandle?: RunIndex;
  constructor(root: string) { this.root = resolve(root); }

  get index(): RunIndex { return (this.indexHandle ??= new RunIndex(join(this.root, 'index.sqlite'))); }
  close(): void { this.indexHandle?.close(); this.indexHandle = undefined; }

  runDir(run: string): string { return join(this.root, run); }
  stageKey(s: StageSpec): string { return hashConfig({ kind: s.kind, name: s.name, inputs: s.inputs }).slice(0, 16); }
  stageDir(run: string, s: StageSpec): string { return join(this.runDir(run), 'stages', `${s.kind}-${s.name}-${this.stageKey(s).slice(0, 10)}`); }
  manifest(dir: string): StageManifest | undefined { return readJsonIfExists<StageManifest>(join(dir, 'done.json')); }

  /**
   * Runs a stage unless its manifest exists. `work` gets the stage folder (possibly holding
   * partial output from a cut-off attempt) and returns output files (relative paths) + a summary.
   */
  async stage(run: string, s: StageSpec, work: (dir: string) => Promise<{ outputs: Record<string, string>; summary?: unknown }>):
    Promise<StageManifest & { dir: string; skipped: boolean }> {
    const dir = this.stageDir(run, s); const key = this.stageKey(s);
    const done = this.manifest(dir);
    if (done && await this.outputsIntact(dir, done)) return { ...done, dir, skipped: true };
    mkdirSync(dir, { recursive: true });
    const started = Date.now();
    this.index.recordStage({ key, run, kind: s.kind, name: s.name, dir: relative(this.root, dir), status: 'running', started_at: new Date(started).toISOString() });
    // seconds count from when a worker took the stage (or from now, for work on this thread)
    const { result: { outputs, summary }, startedAt } = await withStageClock(async (clock) => ({ result: await work(dir), startedAt: clock.startedAt ?? started }));
    const hashed: Record<string, StageOutput> = {};
    for (const [name, path] of Object.entries(outputs)) hashed[name] = { path, sha256: await hashFile(join(dir, path)) };
    const manifest: StageManifest = { key, kind: s.kind, name: s.name, inputs: s.inputs, outputs: hashed, summary: summary ?? null, seconds: (Date.now() - startedAt) / 1000, finishedAt: new Date().toISOString() };
    writeJsonAtomic(join(dir, 'done.json'), manifest);
    this.index.recordStage({ key, run, kind: s.kind, name: s.name, dir: relative(this.root, dir), status: 'done', finished_at: manifest.finishedAt, seconds: manifest.seconds });
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
