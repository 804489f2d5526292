// The models a server offers: the embedded bases (models/), models recorded in the run store
// (teachers, students), and models published by fine-tuning jobs. Loaded lazily, a few kept.
import { LanguageModel } from '../model/model.js';
import { listModels, type NamedModel } from '../store/models.js';
import { unknownModel } from './errors.js';

export type ServedModel = NamedModel;

export class ModelRegistry {
  private readonly loaded = new Map<string, LanguageModel>();
  constructor(private readonly o: { modelsDir: string; runsDir?: string; fineTunedDir: string; keepLoaded?: number }) {}

  list(): ServedModel[] {
    return listModels(this.o);
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

  /** Drops a loaded model (its folder was replaced or removed). */
  forget(id: string): void {
    this.loaded.get(id)?.dispose();
    this.loaded.delete(id);
  }

  dispose(): void {
    for (const m of this.loaded.values()) m.dispose();
    this.loaded.clear();
  }
}
