// The generate stage against an OpenAI-compatible endpoint: one chat request per prompt, many
// in flight, each answered row appended to partial.jsonl as it lands. A rerun (after a crash,
// a kill or an exhausted budget) skips the prompts already answered, so every prompt ends up
// answered exactly once in rows.jsonl, in prompt order.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { resumeAppendLog, writeJsonl } from '../util/atomic.js';
import { userTurn } from '../model/tokenizer.js';
import { deriveSeed } from '../util/rng.js';
import { BudgetExhausted, type Budget, type OpenAIEndpoint } from '../provider/openai.js';
import type { GeneratedRow, GenerationJob } from './stage.js';

export interface RemoteGenerateArgs extends GenerationJob {
  model: string;
  budget?: Budget;
}

export async function generateRemote(
  endpoint: OpenAIEndpoint,
  a: RemoteGenerateArgs,
  progress?: (done: number, total: number) => void,
): Promise<{ rows: number }> {
  const partial = join(a.outDir, 'partial.jsonl');
  const done = resumeAppendLog<GeneratedRow>(partial, (r) => r.i);
  const todo = a.prompts.map((_, i) => i).filter((i) => !done.has(i));
  const errors: Error[] = [];
  await Promise.all(
    todo.map(async (i) => {
      if (errors.length) return;
      try {
        const r = await endpoint.chat(
          a.model,
          {
            messages: userTurn(a.prompts[i]!, a.systemPrompt),
            temperature: a.temperature,
            topP: a.topP,
            maxTokens: a.maxTokens,
            seed: deriveSeed(a.seed, 'sample', i) % 2 ** 31,
          },
          i,
          a.budget,
        );
        if (done.has(i)) return;
        const row: GeneratedRow = { i, prompt: a.prompts[i]!, completion: r.text };
        appendFileSync(partial, JSON.stringify(row) + '\n');
        done.set(i, row);
        progress?.(done.size, a.prompts.length);
      } catch (e) {
        errors.push(e as Error);
      }
    }),
  );
  // a real failure outranks a spent budget; both leave partial.jsonl for the rerun
  const failure = errors.find((e) => !(e instanceof BudgetExhausted));
  if (failure) throw failure;
  if (errors.length)
    throw new BudgetExhausted(
      `${errors[0]!.message}: ${done.size} of ${a.prompts.length} prompts answered; rerun to continue`,
    );
  writeJsonl(
    join(a.outDir, 'rows.jsonl'),
    [...done.values()].sort((x, y) => x.i - y.i),
  );
  return { rows: done.size };
}
