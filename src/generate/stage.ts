// The generate stage: one completion per prompt from a teacher (embedded sampler or endpoint).
import type { StageDef } from '../store/runStore.js';

export const generateStage: StageDef = { kind: 'generate', code: ['generate/domainPrompts.ts', 'model/sample.ts', 'model/model.ts', 'generate/remote.ts'] };
