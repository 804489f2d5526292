// One resolver for every way a model is named: a folder, an embedded base's name, a name the store does not know.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { listModels, resolveModelDir } from '../src/store/models.js';
import { ROOT } from './helpers.js';

describe('model names', () => {
  it('resolves a folder, a path relative to the spec, and an embedded base by name; lists what it knows', () => {
    const dir = join(ROOT, 'models', 'entangled-a');
    expect(resolveModelDir(dir)).toBe(dir);
    expect(resolveModelDir('../../models/entangled-a', { specPath: join(ROOT, 'examples', 'x', 'spec.yaml') })).toBe(
      dir,
    );
    expect(resolveModelDir('entangled-a')).toBe(dir);
    expect(listModels({}).map((m) => m.id)).toEqual(expect.arrayContaining(['entangled-a', 'other-c', 'family-a']));
  });

  it('an unknown name is an error that says where it looked', () => {
    expect(() => resolveModelDir('no-such-model', { specPath: '/tmp/x/spec.yaml' })).toThrow(
      /model "no-such-model" not found \(looked in .*\/tmp\/x\/no-such-model.*model names/,
    );
  });
});
