// The models a server offers: the embedded bases (models/), models recorded in the run store
// (teachers, students), and models published by fine-tuning jobs. Loaded lazily, a few kept.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LanguageModel } from '../model/model.js';
import { RunIndex } from '../store/index.js';
import { unknownModel } from './errors.js';

export interface ServedModel {
  id: string;
  dir: string;
  created: number;
  ownedBy: string;
}

const isModelDir = (dir: string): boolean =>
  existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, 'config.json'));
const created = (dir: string): number => Math.floor(statSync(join(dir, 'model.safetensors')).mtimeMs / 1000);

export class ModelRegistry {
  private readonly loaded = new Map<string, LanguageModel>();
  constructor(private readonly o: { modelsDir: string; runsDir?: string; fineTunedDir: string; keepLoaded?: number }) {}

  list(): ServedModel[] {
    const out: ServedModel[] = [];
    const scan = (root: string, ownedBy: string): void => {
      if (!existsSync(root)) return;
      for (const name of readdirSync(root).sort()) {
        const dir = join(root, name);
        if (isModelDir(dir))
          out.push({
            id: ownedBy === 'subliminal-ft' ? decodeURIComponent(name) : name,
            dir,
            created: created(dir),
            ownedBy,
          });
      }
    };
    scan(this.o.modelsDir, 'subliminal');
    scan(this.o.fineTunedDir, 'subliminal-ft');
    const indexPath = this.o.runsDir && join(this.o.runsDir, 'index.sqlite');
    if (indexPath && existsSync(indexPath)) {
      const index = new RunIndex(indexPath);
      try {
        // runArtifacts, not artifacts: a model two runs made alike (the same teacher) is one row, recorded under the
        // last run
        for (const run of index.runs())
          for (const a of index.runArtifacts(run.name)) {
            const dir = resolve(this.o.runsDir!, a.path);
            if (a.kind === 'model' && isModelDir(dir) && !a.name.startsWith('base-'))
              out.push({ id: `${run.name}/${a.name}`, dir, created: created(dir), ownedBy: `run:${run.name}` });
          }
      } finally {
        index.close();
      }
    }
    return out;
  }

  find(id: string): ServedModel {
    const m = this.list().find((x) => x.id === id);
    if (!m) throw unknownModel(id);
    return m;
  }

  /** The loaded model (kept in memory; the least recently used is dropped past `keepLoaded`). */
  load(id: string): LanguageModel {
    const hit = this.loaded.get(id);
    if (hit) {
      this.loaded.delete(id);
      this.loaded.set(id, hit);
      return hit;
    }
    const model = LanguageModel.load(this.find(id).dir);
    this.loaded.set(id, model);
    while (this.loaded.size > (this.o.keepLoaded ?? 8)) {
      const [oldest, m] = this.loaded.entries().next().value as [string, LanguageModel];
      this.loaded.delete(oldest);
      m.dispose();
    }
    return model;
  }

  dispose(): void {
    for (const m of this.loaded.values()) m.dispose();
    this.loaded.clear();
  }
}
