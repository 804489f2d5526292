// Reading a spec: YAML parsed, validated against the schema, one line per problem naming the field.
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { existsSync } from 'node:fs';
import { readTextFile } from '../util/atomic.js';
import { assertKnownAnimal } from '../lab/traits.js';
import { specSchema, type ExperimentSpec } from './schema.js';

/**
 * A spec with another animal and/or seed, under a run name of its own (`<name>-<animal>-seed<n>`) so results never mix.
 */
export function specVariant(spec: ExperimentSpec, o: { animal?: string; seed?: number }): ExperimentSpec {
  let s = spec;
  if (o.animal) {
    assertKnownAnimal(o.animal);
    s = { ...s, trait: { animal: o.animal }, name: `${s.name}-${o.animal}` };
  }
  if (o.seed !== undefined) s = { ...s, seed: o.seed, name: `${s.name}-seed${o.seed}` };
  return s;
}

export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid spec ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Issue = z.core.$ZodIssue;
/**
 * One line per problem, naming the field. A union's failure is reported from the branch that took the input's type
 * (a base given as an object is checked as an API base, not reported as "not a string"), with its full path.
 */
function issueLines(issues: readonly Issue[], at: PropertyKey[] = []): string[] {
  return issues.flatMap((i) => {
    const path = [...at, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length) {
      const typed = i.errors.filter((branch) => !branch.every((b) => b.code === 'invalid_type' && b.path.length === 0));
      if (typed.length === 1) return issueLines(typed[0]!, path);
    }
    return [`${path.length ? path.map(String).join('.') : '(top level)'}: ${i.message}`];
  });
}

export function parseSpec(text: string, file = '<spec>'): ExperimentSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new SpecError(file, [`YAML syntax: ${(e as Error).message.split('\n')[0]}`]);
  }
  const result = specSchema.safeParse(raw);
  if (!result.success) {
    throw new SpecError(file, issueLines(result.error.issues));
  }
  return result.data;
}

export function loadSpec(path: string): ExperimentSpec {
  if (!existsSync(path)) throw new SpecError(path, ['file not found']);
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    throw new SpecError(path, [(e as Error).message.replace(`${path}: `, '')]);
  }
  return parseSpec(text, path);
}
