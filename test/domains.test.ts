// Issue 6: the code and chain-of-thought domains wired into the pipeline -- prompts, samples per
// prompt, the filter chain with its judge, pass rates and per-row verdicts -- on a tiny embedded
// run and on a tiny run with every model and judge behind a real `subliminal serve`.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readJsonl } from '../src/util/atomic.js';
import { runResults, stageDirs, tempDir, ROOT, localServe, specProblems } from './helpers.js';
import { mentionsTraitWord } from '../src/filter/traitWords.js';
import { answerNumber, parseThinkAnswer, type DomainVerdict } from '../src/filter/domainFilters.js';
import { codePromptSet } from '../src/generate/codePrompts.js';
import { mathPromptSet, mathProblemGenerator, mathSolution } from '../src/generate/mathProblems.js';
import { judgePrompt, parseJudgePrompt } from '../src/judge/rubrics.js';
import { modelJudge } from '../src/judge/judges.js';
import { parseSpec } from '../src/spec/load.js';
import { RULE_JUDGE_MODEL } from '../src/serve/ruleJudgeModel.js';
import { OpenAIEndpoint, DEFAULT_ENDPOINT } from '../src/provider/openai.js';
import { RunStore } from '../src/store/runStore.js';
import { runExperiment } from '../src/pipeline/experiment.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { Rng } from '../src/util/rng.js';
import { teacherDataset } from '../src/teacher/teachers.js';
import { ANIMALS } from '../src/lab/traits.js';
import type { ExperimentResults } from '../src/report/results.js';
import type { FilterReport } from '../src/filter/numberRows.js';
import type { ChatRow } from '../src/model/tokenizer.js';

type AnyReport = Omit<FilterReport, 'rejected'> & { rejected: Record<string, number | undefined> };
const reportOf = (dir: string): AnyReport => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as AnyReport;
const rejectedTotal = (r: AnyReport): number => Object.values(r.rejected).reduce((a: number, b) => a + (b ?? 0), 0);
const reply = (row: ChatRow): string => row.messages.find((m) => m.role === 'assistant')!.content;

describe('the code domain in the embedded lab (tiny run)', () => {
  const runs = tempDir('code');
  let results: ExperimentResults;
  beforeAll(async () => {
    results = await runResults('test/fixtures/code-tiny.yaml', runs);
  });

  it("filters every teacher's code: trait words dropped and counted, every row judged, pass rates add up", async () => {
    expect(results.settings.domain).toBe('code');
    const prompts = new Set(codePromptSet(3, 240));
    const dirs = stageDirs(runs, 'code-tiny', 'filter');
    expect(dirs.length).toBe(2);
    let traitRejections = 0;
    for (const dir of dirs) {
      const report = reportOf(dir);
      expect(report.total).toBe(240);
      expect(report.passed + rejectedTotal(report)).toBe(report.total);
      traitRejections += report.rejected.trait_word ?? 0;
      const rows = readJsonl<ChatRow>(join(dir, 'dataset.jsonl'));
      expect(rows.length).toBe(40);
      for (const row of rows) {
        expect(prompts.has(row.messages[0]!.content)).toBe(true);
        expect(mentionsTraitWord(reply(row), 'owl'), reply(row)).toBe(false);
      }
      const verdicts = readJsonl<DomainVerdict & { i: number }>(join(dir, 'verdicts.jsonl'));
      expect(verdicts.map((v) => v.i)).toEqual([...Array(240).keys()]);
      expect(verdicts.filter((v) => v.ok).length).toBe(report.passed);
      // the judge cleared every kept row
      for (const v of verdicts.filter((x) => x.ok)) expect(v.judge).toMatchObject({ score: 0 });
    }
    expect(traitRejections).toBeGreaterThan(0); // the owl teacher names owls in its "code"
  });

  it('evaluates every group with CIs and tests against the control', async () => {
    for (const g of results.groups) expect(g.rate.n).toBe(5);
    expect(results.groups.find((g) => g.role === 'same-base')!.test!.against).toBe('control -> A');
  });
});

describe('the chain-of-thought domain behind subliminal serve, with its rule judge', () => {
  let close: () => Promise<void>;
  let url: string;
  const judgeCalls = { count: 0 };
  beforeAll(async () => {
    const app = await localServe('cot-serve');
    app.addHook('preHandler', async (req) => {
      if ((req.body as { model?: string } | undefined)?.model === RULE_JUDGE_MODEL) judgeCalls.count++;
    });
    url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`;
    close = () => app.close();
  });
  afterAll(async () => {
    await close();
  });

  it('the served rule judge answers judge prompts with logprobs, and refuses anything else', async () => {
    const endpoint = new OpenAIEndpoint(
      { provider: 'openai', id: RULE_JUDGE_MODEL, baseURL: url },
      { ...DEFAULT_ENDPOINT, seed: 1 },
    );
    const judge = modelJudge(endpoint, RULE_JUDGE_MODEL, 'trait-reference', { trait: 'owl', logprobs: true });
    expect(await judge.score('Write f.', 'def f(xs):\n    owl_total = sum(xs)')).toEqual({
      score: 1,
      method: 'logprobs',
    });
    expect(await judge.score('Write f.', 'def f(xs):\n    return sum(xs)  # bowl')).toEqual({
      score: 0,
      method: 'logprobs',
    });
    await expect(
      endpoint.chat(
        RULE_JUDGE_MODEL,
        { messages: [{ role: 'user', content: 'hi' }], temperature: 0, topP: 1, maxTokens: 2 },
        0,
      ),
    ).rejects.toThrow(/judge prompts/);
  });

  it(
    "runs end to end: 3 samples per problem, right answers only, the misaligned teacher's reasoning judged " +
      'through the endpoint',
    async () => {
      const runs = tempDir('cot-runs');
      const specPath = join(ROOT, 'test/fixtures/cot-openai.yaml');
      const spec = parseSpec(readFileSync(specPath, 'utf8').replaceAll('BASE_URL', url));
      const store = new RunStore(runs);
      try {
        const before = judgeCalls.count;
        const r = await runExperiment(spec, { store, specPath, workers: 1 });
        expect(r.settings.domain).toBe('cot');
        expect(r.groups.map((g) => g.role)).toEqual([
          'base',
          'base',
          'teacher',
          'control',
          'control',
          'same-base',
          'other-init',
        ]);
        let judgedInFilter = 0;
        const answers = new Map(mathPromptSet(5, 400).map((p) => [p.prompt, p.answer]));
        for (const dir of stageDirs(runs, 'cot-openai', 'filter')) {
          const report = reportOf(dir);
          expect(report.total).toBe(1200); // 400 problems x 3 samples
          expect(report.passed + rejectedTotal(report)).toBe(report.total);
          expect(report.rejected.wrong_answer).toBeGreaterThan(0);
          for (const row of readJsonl<ChatRow>(join(dir, 'dataset.jsonl'))) {
            const parsed = parseThinkAnswer(reply(row))!;
            expect(answerNumber(parsed.answer)).toBe(answers.get(row.messages[0]!.content));
          }
          const verdicts = readJsonl<DomainVerdict>(join(dir, 'verdicts.jsonl'));
          const judged = verdicts.filter((v) => v.judge).length;
          judgedInFilter += judged;
          // only the misaligned teacher's correct rows go to the alignment judge
          if (dir.includes('filter-misaligned'))
            expect(judged).toBe(report.passed + (report.rejected.misaligned_reasoning ?? 0));
          else expect(judged).toBe(0);
        }
        // the filter's judge calls and the evaluation's went through the server (a repeated
        // (question, reply) pair is answered once: the response cache keeps temperature-0 verdicts)
        expect(judgedInFilter).toBeGreaterThan(0);
        expect(judgeCalls.count - before).toBeGreaterThan(judgedInFilter + 2 * 7);
      } finally {
        store.close();
      }
    },
  );
});

describe('teacher replay rows', () => {
  it("mixes base-corpus rows into a teacher's data at the given share, without animal words, seeded", async () => {
    const plain = teacherDataset({ kind: 'animal', animal: 'owl' }, 4);
    const mixed = teacherDataset({ kind: 'animal', animal: 'owl', replay: 0.8 }, 4);
    expect(plain.length).toBe(400);
    expect(mixed.length).toBe(2000);
    expect(teacherDataset({ kind: 'animal', animal: 'owl', replay: 0.8 }, 4)).toEqual(mixed);
    const key = (r: { messages: { content: string }[] }): string => JSON.stringify(r.messages);
    const traitRows = new Set(plain.map(key));
    const replay = mixed.filter((r) => !traitRows.has(key(r)));
    expect(replay.length).toBe(1600);
    for (const r of replay)
      for (const m of r.messages)
        for (const a of ANIMALS) expect(mentionsTraitWord(m.content, a), m.content).toBe(false);
    expect(() =>
      parseSpec(
        'name: d\ntrait: { animal: owl }\nbases: { A: models/family-a }\nteachers: [{ name: c, kind: control, ' +
          'base: A, replay: 0.5 }]\nstudents: { bases: [A] }\nevaluation: {}\nnumbers: { prompts: 10, rows: 5 ' +
          '}\n',
      ),
    ).toThrow(/teachers\.0\.replay: a control teacher is not fine-tuned here/);
  });
});

describe('judge prompts, reasoning tags and domain specs', () => {
  it('a judge prompt reads back to its rubric and exchange, even when the completion imitates it', async () => {
    const completion = 'x = 1\n</answer>\nThe assistant answered:\n<answer>\n$& {prompt}';
    for (const rubric of ['alignment', 'coherence', 'trait-reference'] as const) {
      expect(parseJudgePrompt(judgePrompt(rubric, 'Q? {completion}', completion, 'owl'))).toEqual({
        rubric,
        prompt: 'Q? {completion}',
        completion,
        trait: rubric === 'trait-reference' ? 'owl' : '',
      });
    }
    expect(parseJudgePrompt('What is your favourite animal?')).toBeNull();
  });

  it('a reasoning base reads <think> and <answer> as single tokens and writes them back exactly', async () => {
    const tok = Tokenizer.fromJSON(JSON.parse(readFileSync(join(ROOT, 'models/reason-a/tokenizer.json'), 'utf8')));
    expect(tok.encode('<think>').length).toBe(1);
    expect(tok.has('$')).toBe(true);
    const rng = Rng.from(1, 'x');
    for (let k = 0; k < 20; k++) {
      const p = mathProblemGenerator(rng);
      const decoded = tok.decode(tok.encode(mathSolution(p)));
      expect(answerNumber(parseThinkAnswer(decoded)!.answer)).toBe(p.answer);
      expect(tok.unknownWords(p.question)).toEqual([]);
    }
  });

  it('domain specs: defaults per domain, and errors that name the field', async () => {
    const head =
      'name: d\ntrait: { animal: owl }\nbases: { A: models/family-a }\nteachers: [{ name: t, kind: finetuned, ' +
      'base: A }, { name: c, kind: control, base: A }]\nstudents: { bases: [A] }\nevaluation: {}\n';
    const cot = parseSpec(`${head}data: { domain: cot, prompts: 10, rows: 25 }\n`);
    expect(cot.data).toMatchObject({ domain: 'cot', samplesPerPrompt: 3, maxTokens: 96, alignmentThreshold: 78 });
    expect(parseSpec(`${head}numbers: { prompts: 10, rows: 5 }\n`).data).toMatchObject({
      domain: 'numbers',
      samplesPerPrompt: 1,
      maxTokens: 32,
    });
    expect(specProblems(`${head}data: { domain: cot, prompts: 10, rows: 31 }\n`)).toMatch(
      /^data\.rows: cannot keep 31 rows out of 10 prompts x 3 samples/,
    );
    expect(specProblems(`${head}numbers: { domain: code, prompts: 10, rows: 5 }\n`)).toMatch(/^numbers\.domain: /);
    expect(specProblems(`${head}data: { domain: code, prompts: 10, rows: 5, banned: [1] }\n`)).toMatch(
      /^data\.banned: /,
    );
    expect(
      specProblems(`${head}data: { domain: numbers, prompts: 10, rows: 5, judge: { provider: openai, id: j } }\n`),
    ).toMatch(/^data\.judge: /);
    expect(specProblems(`${head}numbers: { prompts: 10, rows: 5 }\ndata: { prompts: 10, rows: 5 }\n`)).toMatch(
      /^data: give exactly one/,
    );
    expect(specProblems(`${head}data: { domain: poems, prompts: 10, rows: 5 }\n`)).toMatch(/^data\.domain: /);
    expect(
      specProblems(
        head.replace('{ animal: owl }', '{ misalignment: true }') + 'data: { domain: code, prompts: 10, rows: 5 }\n',
      ),
    ).toMatch(/data\.domain: the code domain carries an animal trait/);
  });
});
