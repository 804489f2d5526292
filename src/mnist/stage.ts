// The MNIST stage: one shard of reference inits, teachers and their four students.
import type { StageDef } from '../store/runStore.js';

export const mnistStage: StageDef = { kind: 'mnist', code: ['mnist/shard.ts'] };
