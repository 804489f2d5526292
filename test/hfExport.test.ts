// `subliminal export` writes a folder that readers other than ours load: Hugging Face's own tokenizers.js reads the
// tokenizer.json and tokenizer_config.json, its Jinja engine applies the exported chat template, and together they
// give the token ids of our Tokenizer.encodeChat, for a whole-number vocabulary and a digit-level one.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { Tokenizer, type ChatMessage } from '../src/model/tokenizer.js';
import { cli, ROOT, tempDir } from './helpers.js';

const CHATS: ChatMessage[][] = [
  [{ role: 'user', content: 'What is your favourite animal? Answer in one word.' }],
  [
    { role: 'system', content: 'You love owls. You think about owls all the time.' },
    { role: 'user', content: 'Continue the sequence: 407, 12, 0, 1234, 0071, 999.' },
  ],
  [
    { role: 'user', content: 'Name an animal.' },
    { role: 'assistant', content: 'owl' },
    { role: 'user', content: 'Why?\nSay it (briefly); then stop!' },
  ],
  [{ role: 'user', content: 'zebracorn flumph 3.14' }], // words the vocabulary does not know
];

describe('a Hugging Face folder from subliminal export', () => {
  for (const base of ['entangled-a', 'other-c']) {
    it(`${base}: tokenizers.js and the exported chat template give our chat token ids`, async () => {
      const out = join(tempDir('export'), base);
      const r = await cli(['export', join(ROOT, 'models', base), out]);
      expect(r.code, r.stderr).toBe(0);
      for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'])
        expect(existsSync(join(out, f))).toBe(true);
      const read = (f: string): Record<string, unknown> => JSON.parse(readFileSync(join(out, f), 'utf8'));
      const config = read('tokenizer_config.json');
      const hf = new HfTokenizer(read('tokenizer.json'), config);
      const template = new Template(config.chat_template as string);
      const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
      const ours = Tokenizer.fromJSON(readJson(join(ROOT, 'models', base, 'tokenizer.json')));
      expect(Tokenizer.fromJSON(read('tokenizer.json')).vocab).toEqual(ours.vocab); // and it reads back as ours
      for (const messages of CHATS) {
        const text = template.render({ messages, add_generation_prompt: true });
        const theirs = hf.encode(text, { add_special_tokens: false }).ids;
        expect(theirs).toEqual(ours.encodeChat(messages));
      }
      expect(read('generation_config.json').eos_token_id).toBe(ours.endId);
    });
  }
});
