// The train stage: a student fine-tuned on a teacher's filtered rows.
import type { StageDef } from '../store/runStore.js';

// spec/studentData.ts cuts a disjoint student's slice of the rows, so it is part of what the stage runs
export const trainStage: StageDef = {
  kind: 'train',
  code: ['train/sft.ts', 'model/model.ts', 'provider/fineTune.ts', 'spec/studentData.ts'],
};
