// The train stage: a student fine-tuned on a teacher's filtered rows.
import type { StageDef } from '../store/runStore.js';

export const trainStage: StageDef = { kind: 'train', code: ['train/sft.ts', 'model/model.ts', 'provider/fineTune.ts'] };
