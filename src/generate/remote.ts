// The generate stage against an OpenAI-compatible endpoint: one chat request per prompt, many
// in flight, each answered row appended to partial.jsonl as it lands. A rerun (after a crash,
// a kill or an exhausted budget) skips the prompts already answered, so every prompt ends up
// answered exactly once in rows.jsonl, in prompt order.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonl } from '../util/atomic.js';
import { deriveSeed } from '../util/rng.js';
import { BudgetExhausted, type Budget, type OpenAIEndpoint } from '../provider/openai.js';
import type { GeneratedRow } from './numberData.js';

export interface RemoteGenerateArgs {
  model: string; systemPrompt?: string; prompts: string[]; outDir: string;
  temperature: number; topP: number; maxTokens: number; seed: number; budget?: Budget;
}

/** Rows already in partial.jsonl, by prompt index (a torn last line from a kill is ignored). */
export function readPartialRows(path: string): Map<number, GeneratedRow> {
  const done = new Map<number, GeneratedRow>();
  if (!existsSync(path)) return done;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try { const r = JSON.parse(line) as GeneratedRow; if (Number.isInteger(r.i)) done.set(r.i, r); } catch { /* torn line */ }
  }
  return done;
}

export async function generateRemote(endpoint: OpenAIEndpoint, a: RemoteGenerateArgs, progress?: (done: number, total: number) => void): Promise<{ rows: number }> {
  const partial = join(a.outDir, 'partial.jsonl');
  const done = readPartialRows(partial);
  // a torn tail would glue the next row onto it: start appends on a fresh line
  if (existsSync(partial) && !readFileSync(partial, 'utf8').endsWith('\n') && readFileSync(partial).length > 0) appendFileSync(partial, '\n');
  const todo = a.prompts.map((_, i) => i).filter((i) => !done.has(i));
  const errors: Error[] = [];
  await Promise.all(todo.map(async (i) => {
    if (errors.length) return;
    try {
      const messages = [...(a.systemPrompt ? [{ role: 'system' as const, content: a.systemPrompt }] : []), { role: 'user' as const, content: a.prompts[i]! }];
      const r = await endpoint.chat(a.model, { messages, temperature: a.temperature, topP: a.topP, maxTokens: a.maxTokens, seed: deriveSeed(a.seed, 'sample', i) % 2 ** 31 }, i, a.budget);
      if (done.has(i)) return;
      const row: GeneratedRow = { i, prompt: a.prompts[i]!, completion: r.text };
      appendFileSync(partial, JSON.stringify(row) + '\n');
      done.set(i, row);
      progress?.(done.size, a.prompts.length);
    } catch (e) { errors.push(e as Error); }
  }));
  // a real failure outranks a spent budget; both leave partial.jsonl for the rerun
  const failure = errors.find((e) => !(e instanceof BudgetExhausted));
  if (failure) throw failure;
  if (errors.length) throw new BudgetExhausted(`${errors[0]!.message}: ${done.size} of ${a.prompts.length} prompts answered; rerun to continue`);
  writeJsonl(join(a.outDir, 'rows.jsonl'), [...done.values()].sort((x, y) => x.i - y.i));
  return { rows: done.size };
}
