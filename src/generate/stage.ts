// The generate stage: one completion per prompt from a teacher (embedded sampler or endpoint).
import type { StageDef } from '../store/runStore.js';

export const generateStage: StageDef = {
  kind: 'generate',
  code: ['generate/domainPrompts.ts', 'model/sample.ts', 'model/model.ts', 'generate/remote.ts'],
};

/** One generated completion; `i` is the prompt's index (a resumed generation skips the indices it has). */
export interface GeneratedRow {
  i: number;
  prompt: string;
  completion: string;
}

/** What a generate job is told, whichever model runs it: the prompts, where to write, the sampling settings. */
export interface GenerationJob {
  systemPrompt?: string;
  prompts: string[];
  outDir: string;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
}
