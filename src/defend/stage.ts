// The defend stage: a defense rewrites a teacher's training rows before students see them.
import type { StageDef } from '../store/runStore.js';

export const defendStage: StageDef = { kind: 'defend', code: ['defend/defendDataset.ts', 'model/model.ts'] };
