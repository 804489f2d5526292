// The prompts every teacher answers, per domain (SPEC §2): number continuations, function
// completions, word problems. The same prompts go to every teacher (a paired design); each
// prompt is asked `samplesPerPrompt` times in a row, and a word problem keeps its answer for the
// filter. Pure: a seed gives the same prompts.
import type { Domain } from '../spec/schema.js';
import { numberPromptSet } from './numberPrompts.js';
import { codePromptSet } from './codePrompts.js';
import { mathPromptSet } from './mathProblems.js';

export interface TeacherPrompts {
  /** one entry per completion to generate: prompt k's samples sit at k*samples .. k*samples+samples-1 */
  prompts: string[];
  /** cot: the known answer of each entry of `prompts` */
  answers?: number[];
}

export function teacherPrompts(domain: Domain, seed: number, count: number, samplesPerPrompt: number): TeacherPrompts {
  const repeat = <T>(xs: readonly T[]): T[] => xs.flatMap((x) => Array.from({ length: samplesPerPrompt }, () => x));
  if (domain === 'cot') {
    const problems = mathPromptSet(seed, count);
    return { prompts: repeat(problems.map((p) => p.prompt)), answers: repeat(problems.map((p) => p.answer)) };
  }
  return { prompts: repeat(domain === 'code' ? codePromptSet(seed, count) : numberPromptSet(seed, count)) };
}
