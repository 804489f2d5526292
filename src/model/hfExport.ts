// A model folder as a Hugging Face user loads it: the weights and config as they are, the tokenizer in the
// `tokenizers` JSON layout, `tokenizer_config.json` with the chat template (Jinja) and the special tokens, and
// `generation_config.json`. `transformers`' AutoTokenizer + apply_chat_template then give the same token ids as
// Tokenizer.encodeChat.
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';
import { SPECIAL, Tokenizer } from './tokenizer.js';

/**
 * The chat template of Tokenizer.encodeChat, in Jinja: <|role|> content <|end|> per message (`developer` is the
 * system role), then <|assistant|> when a reply is wanted. No spaces around the markers: the pre-tokenizer drops
 * whitespace between pieces anyway.
 */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{% set role = 'system' if message['role'] == 'developer' else message['role'] %}" +
  "{{ '<|' + role + '|>' + message['content'] + '<|end|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

/** Writes `outDir` from the model folder `modelDir` (replacing a folder there only once the new one is whole). */
export function exportHuggingFace(modelDir: string, outDir: string): string[] {
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const tokenizer = Tokenizer.fromJSON(JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')));
  const tmp = `${outDir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyFileSync(join(modelDir, 'model.safetensors'), join(tmp, 'model.safetensors'));
  writeJsonAtomic(join(tmp, 'config.json'), config);
  writeJsonAtomic(join(tmp, 'tokenizer.json'), tokenizer.toJSON());
  const special = Object.values(SPECIAL);
  // the begin token the model's config names (the chat template itself adds none)
  const bos = tokenizer.vocab[Number(config.bos_token_id)] ?? SPECIAL.system;
  writeJsonAtomic(join(tmp, 'tokenizer_config.json'), {
    tokenizer_class: 'PreTrainedTokenizerFast',
    chat_template: CHAT_TEMPLATE,
    bos_token: bos,
    eos_token: SPECIAL.end,
    pad_token: SPECIAL.pad,
    unk_token: SPECIAL.unk,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: config.max_position_embeddings,
    added_tokens_decoder: Object.fromEntries(
      special.map((t) => [
        String(tokenizer.id(t)),
        { content: t, special: true, lstrip: false, rstrip: false, normalized: false, single_word: false },
      ]),
    ),
  });
  writeJsonAtomic(join(tmp, 'special_tokens_map.json'), {
    bos_token: bos,
    eos_token: SPECIAL.end,
    pad_token: SPECIAL.pad,
    unk_token: SPECIAL.unk,
  });
  // sampling stops at <|end|>, as ours does
  writeJsonAtomic(join(tmp, 'generation_config.json'), {
    eos_token_id: tokenizer.id(SPECIAL.end),
    pad_token_id: tokenizer.id(SPECIAL.pad),
    max_length: config.max_position_embeddings,
    do_sample: true,
    temperature: 1.0,
    top_p: 1.0,
  });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return [
    'model.safetensors',
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'generation_config.json',
  ];
}
