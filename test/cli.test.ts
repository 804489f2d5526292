import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, ROOT } from './helpers.js';
import { parseSpec, SpecError } from '../src/spec/load.js';

const tiny = readFileSync(join(ROOT, 'test/fixtures/tiny.yaml'), 'utf8');

describe('spec validation', () => {
  it('names the field path of each problem', async () => {
    const bad = tiny.replace('seeds: 1', 'seeds: -2').replace('samplesPerQuestion: 8', 'samplesPerQuestion: lots');
    try {
      parseSpec(bad, 'bad.yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SpecError);
      expect((e as Error).message).toMatch(/students\.seeds:/);
      expect((e as Error).message).toMatch(/evaluation\.samplesPerQuestion:/);
    }
  });

  it('rejects unknown keys, unknown bases and a missing control teacher', async () => {
    expect(() => parseSpec(tiny.replace('seed: 7', 'seed: 7\nsede: 3'))).toThrow(/\(top level\).*sede/);
    expect(() => parseSpec(tiny.replace('bases: [A, B, C]', 'bases: [A, D]'))).toThrow(
      /students\.bases\.1: unknown base "D"/,
    );
    expect(() => parseSpec(tiny.replace('seeds: 1,', 'seeds: 1, matchedControls: [control],'))).toThrow(
      /students\.matchedControls\.0: "control" is not a trait teacher/,
    );
    expect(() => parseSpec(tiny.replace('seeds: 1,', 'seeds: 1, arms: { D: other-init },'))).toThrow(
      /students\.arms\.D: "D" is not one of students\.bases/,
    );
    expect(() => parseSpec(tiny.replace('seeds: 1,', 'seeds: 1, arms: { B: cousin },'))).toThrow(/students\.arms\.B/);
    expect(() => parseSpec(tiny.replace('  - { name: control, kind: control, base: A }\n', ''))).toThrow(
      /teachers: a control teacher/,
    );
  });

  it('the CLI exits 2 with the field path for a malformed spec, and writes nothing', async () => {
    const dir = tempDir('badspec');
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, tiny.replace('rows: 60', 'rows: many'));
    const r = await cli(['run', path, '--runs', join(dir, 'runs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/numbers\.rows: .*number/i);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('an unknown animal gets the list of known ones, exit 2', async () => {
    const r = await cli(['demo', '--animal', 'zebra', '--runs', tempDir('zebra')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown animal "zebra"; known animals: .*owl/);
    const dir = tempDir('zebra-spec');
    const path = join(dir, 's.yaml');
    writeFileSync(path, tiny.replace('animal: owl', 'animal: zebra'));
    const s = await cli(['validate', path]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/trait\.animal: unknown animal "zebra"; known animals: dog, cat, owl/);
  });

  it('bad flags and missing files are clear errors', async () => {
    expect((await cli(['run', 'nope.yaml'])).stderr).toMatch(/nope\.yaml[\s\S]*file not found/);
    const r = await cli(['demo', '--seed', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--seed must be an integer, got "abc"/);
    expect((await cli(['show', 'missing-run', '--runs', tempDir('empty')])).code).toBe(2);
  });
});
