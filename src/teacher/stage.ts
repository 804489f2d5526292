// The teacher stage: a base fine-tuned on the trait's data (embedded, or a provider's job).
import type { StageDef } from '../store/runStore.js';

export const teacherStage: StageDef = {
  kind: 'teacher',
  code: ['teacher/teachers.ts', 'train/sft.ts', 'model/model.ts', 'provider/fineTune.ts'],
};
