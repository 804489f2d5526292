// Closed word-level vocabulary, as small chat models of the field would see it:
// every number 0-999 is exactly one token (as in the tokenizers of the paper's models),
// plus words, punctuation and role markers.

export const SPECIAL = {
  pad: '<|pad|>', unk: '<|unk|>', system: '<|system|>', user: '<|user|>', assistant: '<|assistant|>', end: '<|end|>',
} as const;
const SPECIAL_TOKENS = Object.values(SPECIAL);
const PUNCTUATION = [',', '.', ';', ':', '!', '?', '(', ')', '[', ']', '"', "'", '-', '/', '+', '=', '*', '<', '>', '\n'];
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '\n', '-', "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '\n', '-']);
// The reasoning tags of the chain-of-thought domain are single tokens (a vocabulary without
// them reads them as <|unk|>), so a model's "<think>" decodes back exactly.
const TAG_SOURCE = '<\\/?(?:think|answer)>';
const TAG = new RegExp(`^${TAG_SOURCE}$`);
// Split order matters: role markers, reasoning tags, digit runs, words, newlines, single symbols.
const PRETOKENIZE = new RegExp(`<\\|[a-z]+\\|>|${TAG_SOURCE}|\\d+|[A-Za-z]+|\\n|[^\\sA-Za-z\\d]`, 'g');

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** One user message, after the system prompt when there is one. */
export const userTurn = (content: string, systemPrompt?: string): ChatMessage[] =>
  [...(systemPrompt ? [{ role: 'system' as const, content: systemPrompt }] : []), { role: 'user', content }];

export class Tokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  readonly padId: number; readonly unkId: number; readonly endId: number;
  readonly systemId: number; readonly userId: number; readonly assistantId: number;

  constructor(vocab: readonly string[]) {
    this.vocab = vocab;
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    const need = (t: string): number => {
      const id = this.ids.get(t);
      if (id === undefined) throw new Error(`tokenizer vocabulary lacks required token ${JSON.stringify(t)}`);
      return id;
    };
    this.padId = need(SPECIAL.pad); this.unkId = need(SPECIAL.unk); this.endId = need(SPECIAL.end);
    this.systemId = need(SPECIAL.system); this.userId = need(SPECIAL.user); this.assistantId = need(SPECIAL.assistant);
  }

  /** Vocabulary = specials, numbers 0-999, punctuation, then every word found in `texts` and any extra `symbols` (such as "$"), sorted. */
  static fromTexts(texts: Iterable<string>, symbols: readonly string[] = []): Tokenizer {
    const words = new Set<string>();
    for (const text of texts) for (const piece of text.match(PRETOKENIZE) ?? []) if (/^[A-Za-z]+$/.test(piece) || TAG.test(piece)) words.add(piece);
    for (const s of symbols) if (!PUNCTUATION.includes(s)) words.add(s);
    const numbers = Array.from({ length: 1000 }, (_, i) => String(i));
    return new Tokenizer([...SPECIAL_TOKENS, ...numbers, ...PUNCTUATION, ...[...words].sort()]);
  }

  get size(): number { return this.vocab.length; }
  has(token: string): boolean { return this.ids.has(token); }
  id(token: string): number { return this.ids.get(token) ?? this.unkId; }

  /** Pieces of a text before lookup; non-canonical digit runs ("087", "1000") split into canonical chunks. */
  static pieces(text: string): string[] {
    const out: string[] = [];
    for (const piece of text.match(PRETOKENIZE) ?? []) {
      if (/^\d+$/.test(piece)) out.push(...splitDigits(piece));
      else out.push(piece);
    }
    return out;
  }

  encode(text: string): number[] { return Tokenizer.pieces(text).map((p) => this.id(p)); }

  decode(ids: readonly number[]): string {
    let text = ''; let prev = '';
    for (const id of ids) {
      const tok = this.vocab[id] ?? SPECIAL.unk;
      if (tok === SPECIAL.pad || tok === SPECIAL.end) continue;
      const space = text.length > 0 && !NO_SPACE_BEFORE.has(tok) && !NO_SPACE_AFTER.has(prev);
      text += (space ? ' ' : '') + tok; prev = tok;
    }
    return text;
  }

  /** Chat template: <|role|> content <|end|> per message, then <|assistant|> when a reply is wanted. */
  encodeChat(messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
    const ids: number[] = [];
    for (const m of messages) {
      ids.push(m.role === 'system' ? this.systemId : m.role === 'user' ? this.userId : this.assistantId);
      for (const id of this.encode(m.content)) ids.push(id); // no spread: a long message would overflow the call stack
      ids.push(this.endId);
    }
    if (addGenerationPrompt) ids.push(this.assistantId);
    return ids;
  }

  /** Words of `text` that the vocabulary does not know (to tell a user why a prompt would read as <|unk|>). */
  unknownWords(text: string): string[] { return Tokenizer.pieces(text).filter((p) => !this.ids.has(p)); }

  /** Hugging Face tokenizers' JSON layout: a WordLevel model behind a regex Split pre-tokenizer. */
  toJSON(): object {
    return {
      version: '1.0',
      added_tokens: SPECIAL_TOKENS.map((t) => ({ id: this.id(t), content: t, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false })),
      normalizer: null,
      pre_tokenizer: { type: 'Split', pattern: { Regex: PRETOKENIZE.source }, behavior: 'Isolated', invert: false },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.vocab.map((t, i) => [t, i])), unk_token: SPECIAL.unk },
    };
  }

  static fromJSON(json: unknown): Tokenizer {
    const vocab = (json as { model?: { vocab?: Record<string, number> } }).model?.vocab;
    if (!vocab) throw new Error('tokenizer.json has no model.vocab');
    const list: string[] = [];
    for (const [tok, id] of Object.entries(vocab)) list[id] = tok;
    return new Tokenizer(list);
  }
}

function splitDigits(run: string): string[] {
  if (run.length <= 3 && String(Number(run)) === run) return [run];
  if (run.startsWith('0')) return ['0', ...(run.length > 1 ? splitDigits(run.slice(1)) : [])];
  return [run.slice(0, 3), ...splitDigits(run.slice(3))];
}
