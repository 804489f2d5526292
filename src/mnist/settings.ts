// The MNIST experiment's settings and SPEC's defaults, apart from the code that trains, so the CLI can show them
// without loading the model backend.
import type { MnistOptions } from './results.js';

export interface MnistTrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}
export const SPEC_TRAIN: Omit<MnistTrainSettings, 'seed'> = { epochs: 5, batchSize: 1024, lr: 3e-4 };

export const MNIST_DEFAULTS: MnistOptions = {
  models: 10,
  seed: 1,
  ...SPEC_TRAIN,
  noiseCount: 60000,
  saveWeights: false,
};
