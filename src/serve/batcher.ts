// Concurrent requests for one model are batched: requests that arrive while the model is busy
// (or in the same tick) are sampled together, one row per choice, grouped by sampling settings.
import type { LanguageModel } from '../model/model.js';
import { generateBatch, generationBatches, type Sample } from '../model/sample.js';
import type { Rng } from '../util/rng.js';

export interface SamplingSettings {
  temperature: number;
  topP: number;
  maxTokens: number;
  topLogprobs: number;
}
interface Pending {
  prompt: number[];
  rngs: Rng[];
  settings: SamplingSettings;
  resolve: (s: Sample[]) => void;
  reject: (e: unknown) => void;
}

export class ModelBatcher {
  private readonly queues = new Map<string, { model: LanguageModel; pending: Pending[] }>();
  private scheduled = false;
  constructor(private readonly maxBatch = 64) {}

  /** Samples rngs.length completions of one prompt. */
  sample(
    id: string,
    model: LanguageModel,
    prompt: number[],
    rngs: Rng[],
    settings: SamplingSettings,
  ): Promise<Sample[]> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(id) ?? { model, pending: [] };
      q.pending.push({ prompt, rngs, settings, resolve, reject });
      this.queues.set(id, q);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const { model, pending } of queues) {
      const groups = new Map<string, Pending[]>();
      for (const p of pending) {
        const k = JSON.stringify(p.settings);
        const group = groups.get(k);
        if (group) group.push(p);
        else groups.set(k, [p]);
      }
      for (const group of groups.values()) {
        try {
          this.run(model, group);
        } catch (e) {
          for (const p of group) p.reject(e);
        }
      }
    }
  }

  private run(model: LanguageModel, group: Pending[]): void {
    const rows = group.flatMap((p, r) => p.rngs.map((rng, c) => ({ r, c, prompt: p.prompt, rng })));
    const results = group.map((p) => new Array<Sample>(p.rngs.length));
    const s = group[0]!.settings;
    for (const batch of generationBatches(
      rows.map((x) => x.prompt),
      this.maxBatch,
    )) {
      const samples = generateBatch(
        model,
        batch.map((i) => rows[i]!.prompt),
        batch.map((i) => rows[i]!.rng),
        {
          temperature: s.temperature,
          topP: s.topP,
          maxTokens: s.maxTokens,
          seed: 0,
          topLogprobs: s.topLogprobs || undefined,
        },
      );
      batch.forEach((i, k) => {
        results[rows[i]!.r]![rows[i]!.c] = samples[k]!;
      });
    }
    group.forEach((p, r) => p.resolve(results[r]!));
  }
}
