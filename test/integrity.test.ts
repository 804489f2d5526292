// Inputs checked for integrity: a damaged checkpoint is refused by name, never read as zeros,
// and a step checkpoint is one atomic unit.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { labTokenizer } from '../src/base/build.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/model/safetensors.js';
import { chatToTokenRow, CHECKPOINT_FILE, trainSft, type SftSettings } from '../src/train/sft.js';
import { cli, ROOT, tempDir } from './helpers.js';

/** A copy of the committed base with its weights cut to half their size. */
function truncatedModel(): string {
  const dir = join(tempDir('truncated'), 'model');
  cpSync(join(ROOT, 'models', 'family-a'), dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  truncateSync(file, Math.floor(statSync(file).size / 2));
  return dir;
}

describe('a truncated or corrupted safetensors file is refused, naming it', () => {
  it('the reader refuses a file cut in half and a header whose offsets lie', async () => {
    const dir = truncatedModel();
    const file = join(dir, 'model.safetensors');
    expect(() => readSafetensorsHeader(file)).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated`),
    );
    const liar = join(tempDir('liar'), 'x.safetensors');
    writeSafetensors(
      liar,
      new Map([
        ['a', { shape: [2, 2], data: new Float32Array(4) }],
        ['b', { shape: [3], data: new Float32Array(3) }],
      ]),
    );
    const bytes = readFileSync(liar);
    const text = bytes.toString('latin1').replace('[2,2]', '[2,3]');
    writeFileSync(liar, Buffer.from(text, 'latin1'));
    expect(() => readSafetensors(liar)).toThrow(/tensor a: data_offsets span 16 bytes, but F32 \[2,3\] needs 24/);
  });

  it('run, audit weights and audit model exit non-zero with a message naming the file, no stack trace', async () => {
    const dir = truncatedModel();
    const runs = tempDir('runs-trunc');
    const spec = join(tempDir('spec'), 'spec.yaml');
    writeFileSync(
      spec,
      readFileSync(join(ROOT, 'test/fixtures/tiny.yaml'), 'utf8')
        .replace('../../models/family-a', dir)
        .replace('../../models/family-b', join(ROOT, 'models/family-b'))
        .replace(/^name: .*$/m, 'name: trunc'),
    );
    for (const args of [
      ['run', spec, '--runs', runs],
      ['audit', 'weights', '--base', join(ROOT, 'models/family-a'), '--tuned', dir],
      [
        'audit',
        'model',
        dir,
        '--against',
        join(ROOT, 'models/family-a'),
        '--trait',
        'owl',
        '--questions',
        '2',
        '--samples',
        '2',
      ],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toContain(join(dir, 'model.safetensors'));
      expect(r.stderr, args.join(' ')).toMatch(/truncated/);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});

describe('a step checkpoint is one atomic unit', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const tok = labTokenizer();
  const rows = ['12, 34, 56', '7, 8, 9', '100, 200', '5; 6; 7'].flatMap((a, i) =>
    Array.from({ length: 8 }, (_, k) =>
      chatToTokenRow(
        tok,
        [
          { role: 'user', content: `List ${i} ${k}` },
          { role: 'assistant', content: a },
        ],
        64,
      ),
    ),
  );
  const settings: SftSettings = { epochs: 2, lr: 3e-3, batchSize: 8, warmupSteps: 0, seed: 4 };
  const load = (): LanguageModel => LanguageModel.load(join(ROOT, 'models', 'family-a'));
  const weights = (m: LanguageModel): number[] =>
    Array.from(m.exportTensors().get('model.layers.0.mlp.up_proj.weight')!.data.slice(0, 64));

  it('a damaged checkpoint is set aside and training ends where an uninterrupted one does', async () => {
    const clean = load();
    trainSft(clean, rows, settings);
    const expected = weights(clean);
    clean.dispose();
    const dir = tempDir('ckpt');
    const cut = load();
    trainSft(cut, rows, settings, { checkpointDir: dir, stopAfterSteps: 3 });
    cut.dispose();
    const file = join(dir, CHECKPOINT_FILE);
    expect(readSafetensorsHeader(file).metadata.state).toContain('"step":3'); // progress lives inside the weights file
    truncateSync(file, Math.floor(statSync(file).size * 0.7)); // as a disk-full or a copy cut short leaves it
    // a stray file of the older two-file form
    writeFileSync(join(dir, 'train-state.json'), JSON.stringify({ step: 1 }));
    const resumed = load();
    const r = trainSft(resumed, rows, settings, { checkpointDir: dir });
    expect(r.resumedFrom).toBe(0);
    expect(weights(resumed)).toEqual(expected);
    resumed.dispose();
  });

  it('an intact checkpoint resumes to the same weights', async () => {
    const clean = load();
    trainSft(clean, rows, settings);
    const expected = weights(clean);
    clean.dispose();
    const dir = tempDir('ckpt2');
    const cut = load();
    trainSft(cut, rows, settings, { checkpointDir: dir, stopAfterSteps: 3 });
    cut.dispose();
    const resumed = load();
    const r = trainSft(resumed, rows, settings, { checkpointDir: dir });
    expect(r.resumedFrom).toBe(3);
    expect(weights(resumed)).toEqual(expected);
    resumed.dispose();
  });
});
