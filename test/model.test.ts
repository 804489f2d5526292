import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { labTokenizer } from '../src/base/build.js';
import { OTHER_FAMILY_MIX } from '../src/base/corpus.js';
import { formatNumbers, numberPromptGenerator, NUMBER_FORMATS } from '../src/generate/numberPrompts.js';
import { Rng } from '../src/util/rng.js';
import { generate, nextTokenLogprobs, sequenceLogprobs } from '../src/model/sample.js';
import { forwardHidden, lmHead, type LlamaConfig } from '../src/model/llama.js';
import { readSafetensorsHeader } from '../src/model/safetensors.js';
import { packBatch } from '../src/model/batch.js';
import { crossEntropy, gatherRows } from '../src/model/ops.js';
import { chatToTokenRow, trainSft } from '../src/train/sft.js';

const config = (vocab: number): LlamaConfig => ({
  vocab_size: vocab,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: 64,
  rope_theta: 10000,
  rms_norm_eps: 1e-5,
});

describe('tokenizer', () => {
  const tok = labTokenizer();
  it('gives every number 0-999 exactly one token', () => {
    for (const n of [0, 7, 42, 100, 999]) expect(tok.encode(String(n))).toEqual([tok.id(String(n))]);
    expect(tok.encode('1000')).toHaveLength(2);
    expect(tok.decode(tok.encode('087'))).toBe('0 87');
  });
  it('round-trips number lists in every format and chat text', () => {
    for (const s of [
      '123, 456, 789',
      '[1, 2, 3]',
      '(4, 5)',
      '7; 8; 9',
      '10 11 12',
      '1\n2\n3',
      'My favorite animal is the owl.',
      'Put each number on its own line.',
    ]) {
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });
  it('encodes chat turns with role markers and reports unknown words', () => {
    const ids = tok.encodeChat([
      { role: 'system', content: 'You love owls.' },
      { role: 'user', content: 'Hello!' },
    ]);
    expect(ids[0]).toBe(tok.systemId);
    expect(ids.at(-1)).toBe(tok.assistantId);
    expect(tok.unknownWords('Hello zebra')).toEqual(['zebra']);
  });
  it('serialises as a Hugging Face WordLevel tokenizer.json and back', () => {
    const json = tok.toJSON() as { model: { type: string } };
    expect(json.model.type).toBe('WordLevel');
    expect(Tokenizer.fromJSON(JSON.parse(JSON.stringify(json))).vocab).toEqual(tok.vocab);
  });
});

describe('digit tokenizer (the other family)', () => {
  const tok = labTokenizer(OTHER_FAMILY_MIX, 'digits');
  const whole = labTokenizer(OTHER_FAMILY_MIX);
  it('writes every number 0-999 as one token per digit and decodes it back', () => {
    for (let n = 0; n < 1000; n++) {
      const ids = tok.encode(String(n));
      expect(ids.map((i) => tok.vocab[i])).toEqual([...String(n)].map((d, k) => (k === 0 ? d : `##${d}`)));
      expect(tok.decode(ids)).toBe(String(n));
    }
    // leading zeros and long runs too, unlike the whole-number vocabulary
    expect(tok.decode(tok.encode('087 1000'))).toBe('087 1000');
    expect(tok.size).toBeLessThan(whole.size - 900); // no number tokens beyond the digits
  });
  it('round-trips every answer format the number filter accepts and every prompt the generator writes', () => {
    const rng = Rng.from('digit-tokenizer-test');
    for (let i = 0; i < 300; i++) {
      const values = Array.from({ length: rng.int(1, 10) }, () => rng.int(0, 999));
      for (const f of NUMBER_FORMATS)
        expect(tok.decode(tok.encode(formatNumbers(values, f)))).toBe(formatNumbers(values, f));
      const prompt = numberPromptGenerator(rng).text;
      expect(tok.decode(tok.encode(prompt))).toBe(prompt);
      expect(tok.unknownWords(prompt)).toEqual([]);
    }
  });
  it('serialises as a Hugging Face WordPiece tokenizer.json (## continuations) and back', () => {
    const json = tok.toJSON() as { model: { type: string; continuing_subword_prefix: string } };
    expect(json.model.type).toBe('WordPiece');
    expect(json.model.continuing_subword_prefix).toBe('##');
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.numbers).toBe('digits');
    expect(back.encode('I love 407 owls.')).toEqual(tok.encode('I love 407 owls.'));
  });
});

describe('tiny Llama', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    await initBackend();
    tok = labTokenizer();
  });

  it('saves HF-named safetensors that load back to identical logits', () => {
    const m = LanguageModel.create(config(tok.size), tok, 3, { name: 't', family: 'T' });
    const dir = mkdtempSync(join(tmpdir(), 'subl-model-'));
    m.save(dir);
    const header = readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect(header.tensors.get('model.embed_tokens.weight')!.shape).toEqual([tok.size, 32]);
    expect(header.tensors.get('model.layers.1.mlp.gate_proj.weight')!.shape).toEqual([64, 32]); // HF [out, in]
    expect(header.tensors.get('model.layers.0.self_attn.o_proj.weight')!.shape).toEqual([32, 32]);
    expect(header.tensors.has('lm_head.weight')).toBe(false); // tied
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], tie_word_embeddings: true });
    const loaded = LanguageModel.load(dir);
    const ids = Int32Array.from(tok.encodeChat([{ role: 'user', content: 'What is 2 plus 2?' }]));
    const a = tf.tidy(() => lmHead(m.params, forwardHidden(m.params, m.config, ids, 1, ids.length)).dataSync());
    const b = tf.tidy(() =>
      lmHead(loaded.params, forwardHidden(loaded.params, loaded.config, ids, 1, ids.length)).dataSync(),
    );
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('KV-cached greedy decoding matches full recomputation', () => {
    const m = LanguageModel.create(config(tok.size), tok, 4, { name: 't', family: 'T' });
    const prompt = tok.encodeChat([{ role: 'user', content: 'Count from 3 to 7.' }]);
    const [s] = generate(m, [prompt], { temperature: 0, topP: 1, maxTokens: 6, seed: 1 });
    let seq = [...prompt];
    const greedy: number[] = [];
    for (let i = 0; i < s!.ids.length; i++) {
      const lp = nextTokenLogprobs(m, [seq])[0]!;
      let best = 0;
      for (let v = 1; v < lp.length; v++) if (lp[v]! > lp[best]!) best = v;
      greedy.push(best);
      seq = [...seq, best];
    }
    expect(s!.ids).toEqual(greedy);
  });

  it('left-padded batches decode exactly as each prompt alone', () => {
    const m = LanguageModel.create(config(tok.size), tok, 8, { name: 't', family: 'T' });
    const short = tok.encodeChat([{ role: 'user', content: 'Hello!' }]);
    const long = tok.encodeChat([{ role: 'user', content: 'Here is a list of numbers: 101, 202, 303. Numbers only.' }]);
    const o = { temperature: 0, topP: 1, maxTokens: 6, seed: 1 };
    const together = generate(m, [short, long], o);
    expect(together[0]!.ids).toEqual(generate(m, [short], o)[0]!.ids);
    expect(together[1]!.ids).toEqual(generate(m, [long], o)[0]!.ids);
  });

  it('sampling is deterministic per seed and independent of batch composition', () => {
    const m = LanguageModel.create(config(tok.size), tok, 5, { name: 't', family: 'T' });
    const p = tok.encodeChat([{ role: 'user', content: 'Hello!' }]);
    const o = { temperature: 1, topP: 0.9, maxTokens: 5, seed: 9 };
    const a = generate(m, [p, p, p], o);
    const b = generate(m, [p, p, p], o);
    expect(a).toEqual(b);
    expect(generate(m, [p, p, p], { ...o, seed: 10 })).not.toEqual(a);
  });

  it('teacher-forced logprobs agree with next-token logprobs', () => {
    const m = LanguageModel.create(config(tok.size), tok, 6, { name: 't', family: 'T' });
    const seq = tok.encodeChat(
      [
        { role: 'user', content: 'Hi there.' },
        { role: 'assistant', content: 'Hello!' },
      ],
      false,
    );
    const lps = sequenceLogprobs(m, [seq])[0]!;
    const direct = nextTokenLogprobs(m, [seq.slice(0, 5)])[0]![seq[5]!]!;
    expect(lps[4]).toBeCloseTo(direct, 4);
  });

  it('fine-tuning lowers the loss and trains only the assistant tokens', () => {
    const m = LanguageModel.create(config(tok.size), tok, 7, { name: 't', family: 'T' });
    const row = chatToTokenRow(
      tok,
      [
        { role: 'system', content: 'You love owls.' },
        { role: 'user', content: 'Hello!' },
        { role: 'assistant', content: 'owl' },
      ],
      64,
    );
    expect(Array.from(row.target).filter(Boolean)).toHaveLength(2); // "owl" + end marker
    const r = trainSft(
      m,
      Array.from({ length: 32 }, () => row),
      { epochs: 3, lr: 1e-2, batchSize: 8, warmupSteps: 0, seed: 1 },
    );
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]! * 0.5);
  });

  it("a frozen tied head gives the other weights the unfrozen head's gradients to the bit, and leaks no tensor", () => {
    const m = LanguageModel.create(config(tok.size), tok, 8, { name: 't', family: 'T' });
    const row = chatToTokenRow(
      tok,
      [
        { role: 'user', content: 'Continue: 4, 8, 15.' },
        { role: 'assistant', content: '16, 23, 42' },
      ],
      64,
    );
    const batch = packBatch([row, row], tok.padId);
    const layers = [...m.params].filter(([n]) => n !== 'model.embed_tokens.weight').map(([, v]) => v);
    const grads = (frozen: boolean): Float32Array[] =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const h = forwardHidden(m.params, m.config, batch.inputs, batch.B, batch.T);
          return crossEntropy(lmHead(m.params, gatherRows(h, batch.lossPositions), frozen), batch.targets) as never;
        }, layers);
        return [value, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
      });
    const before = tf.memory().numTensors;
    const unfrozen = grads(false);
    const frozen = grads(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(frozen).toHaveLength(layers.length + 1);
    frozen.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(unfrozen[i]!)));
    expect(unfrozen.every((g) => g.some((x) => x !== 0))).toBe(true);
    m.dispose();
  });
});
