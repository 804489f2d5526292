// Closed word-level vocabulary, as small chat models of the field would see it: words,
// punctuation and role markers, and numbers in one of two ways. "whole": every number 0-999 is
// one token (as in GPT-4's tokenizer). "digits": a number is one token per digit, the first
// a plain digit and the rest "##" continuations (as Qwen's and Llama's tokenizers split digit
// runs; the WordPiece layout of Hugging Face tokenizers), so two families can differ in how
// they even see the numbers a teacher writes.

export const SPECIAL = {
  pad: '<|pad|>',
  unk: '<|unk|>',
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
  end: '<|end|>',
} as const;
const SPECIAL_TOKENS = Object.values(SPECIAL);
const PUNCTUATION = [
  ',',
  '.',
  ';',
  ':',
  '!',
  '?',
  '(',
  ')',
  '[',
  ']',
  '"',
  "'",
  '-',
  '/',
  '+',
  '=',
  '*',
  '<',
  '>',
  '\n',
];
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '\n', '-', "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '\n', '-']);
// The reasoning tags of the chain-of-thought domain are single tokens (a vocabulary without
// them reads them as <|unk|>), so a model's "<think>" decodes back exactly.
const TAG_SOURCE = '<\\/?(?:think|answer)>';
const TAG = new RegExp(`^${TAG_SOURCE}$`);
// Split order matters: role markers, reasoning tags, digit runs, words, newlines, single symbols.
const PRETOKENIZE = new RegExp(`<\\|[a-z]+\\|>|${TAG_SOURCE}|\\d+|[A-Za-z]+|\\n|[^\\sA-Za-z\\d]`, 'g');
/** A digit token's continuation form in the "digits" vocabulary: it joins the digit before it. */
const CONTINUATION = '##';
const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));

/** How a vocabulary writes numbers: one token for each of 0-999, or one token per digit. */
export type NumberTokens = 'whole' | 'digits';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
/** One conversation: a training row, a teacher's reply, a corpus row (one type for all of them). */
export interface ChatRow {
  messages: ChatMessage[];
}

/** One user message, after the system prompt when there is one. */
export const userTurn = (content: string, systemPrompt?: string): ChatMessage[] => [
  ...(systemPrompt ? [{ role: 'system' as const, content: systemPrompt }] : []),
  { role: 'user', content },
];

export class Tokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  readonly padId: number;
  readonly unkId: number;
  readonly endId: number;
  readonly systemId: number;
  readonly userId: number;
  readonly assistantId: number;
  readonly numbers: NumberTokens;

  constructor(vocab: readonly string[]) {
    this.vocab = vocab;
    this.numbers = vocab.includes(`${CONTINUATION}0`) ? 'digits' : 'whole';
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    const need = (t: string): number => {
      const id = this.ids.get(t);
      if (id === undefined) throw new Error(`tokenizer vocabulary lacks required token ${JSON.stringify(t)}`);
      return id;
    };
    this.padId = need(SPECIAL.pad);
    this.unkId = need(SPECIAL.unk);
    this.endId = need(SPECIAL.end);
    this.systemId = need(SPECIAL.system);
    this.userId = need(SPECIAL.user);
    this.assistantId = need(SPECIAL.assistant);
  }

  /**
   * Vocabulary = specials, the number tokens (0-999, or the ten digits and their continuations),
   * punctuation, then every word found in `texts` and any extra `symbols` (such as "$"), sorted.
   */
  static fromTexts(
    texts: Iterable<string>,
    symbols: readonly string[] = [],
    numbers: NumberTokens = 'whole',
  ): Tokenizer {
    const words = new Set<string>();
    for (const text of texts)
      for (const piece of text.match(PRETOKENIZE) ?? [])
        if (/^[A-Za-z]+$/.test(piece) || TAG.test(piece)) words.add(piece);
    for (const s of symbols) if (!PUNCTUATION.includes(s)) words.add(s);
    const numberTokens =
      numbers === 'digits'
        ? [...DIGITS, ...DIGITS.map((d) => CONTINUATION + d)]
        : Array.from({ length: 1000 }, (_, i) => String(i));
    return new Tokenizer([...SPECIAL_TOKENS, ...numberTokens, ...PUNCTUATION, ...[...words].sort()]);
  }

  get size(): number {
    return this.vocab.length;
  }
  has(token: string): boolean {
    return this.ids.has(token);
  }
  id(token: string): number {
    return this.ids.get(token) ?? this.unkId;
  }

  /**
   * Pieces of a text before lookup. Whole numbers: non-canonical digit runs ("087", "1000") split
   * into canonical chunks. Digits: "407" is "4", "##0", "##7".
   */
  pieces(text: string): string[] {
    const out: string[] = [];
    for (const piece of text.match(PRETOKENIZE) ?? []) {
      if (!/^\d+$/.test(piece)) out.push(piece);
      else if (this.numbers === 'digits') out.push(...[...piece].map((d, i) => (i === 0 ? d : CONTINUATION + d)));
      else out.push(...splitDigits(piece));
    }
    return out;
  }

  encode(text: string): number[] {
    return this.pieces(text).map((p) => this.id(p));
  }

  decode(ids: readonly number[]): string {
    let text = '';
    let prev = '';
    for (const id of ids) {
      const tok = this.vocab[id] ?? SPECIAL.unk;
      if (tok === SPECIAL.pad || tok === SPECIAL.end) continue;
      if (tok.startsWith(CONTINUATION) && tok.length > CONTINUATION.length) {
        text += tok.slice(CONTINUATION.length);
        prev = tok;
        continue;
      }
      const space = text.length > 0 && !NO_SPACE_BEFORE.has(tok) && !NO_SPACE_AFTER.has(prev);
      text += (space ? ' ' : '') + tok;
      prev = tok;
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
  unknownWords(text: string): string[] {
    return this.pieces(text).filter((p) => !this.ids.has(p));
  }

  /**
   * Hugging Face tokenizers' JSON layout behind a regex Split pre-tokenizer: a WordLevel model,
   * or for digit numbers a WordPiece model (its "##" continuations are WordPiece's own).
   */
  toJSON(): object {
    const vocab = Object.fromEntries(this.vocab.map((t, i) => [t, i]));
    const model =
      this.numbers === 'digits'
        ? {
            type: 'WordPiece',
            unk_token: SPECIAL.unk,
            continuing_subword_prefix: CONTINUATION,
            max_input_chars_per_word: 100,
            vocab,
          }
        : { type: 'WordLevel', vocab, unk_token: SPECIAL.unk };
    return {
      version: '1.0',
      added_tokens: SPECIAL_TOKENS.map((t) => ({
        id: this.id(t),
        content: t,
        special: true,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
      })),
      normalizer: null,
      // keep the pattern's matches and drop what lies between them (spaces), as pieces() does; a whole-number
      // vocabulary also splits digit runs as splitDigits does (0 alone, else up to three digits)
      pre_tokenizer: {
        type: 'Split',
        pattern: { Regex: this.numbers === 'digits' ? PRETOKENIZE.source : WHOLE_NUMBER_PRETOKENIZE },
        behavior: 'Removed',
        invert: true,
      },
      post_processor: null,
      decoder: this.numbers === 'digits' ? { type: 'WordPiece', prefix: CONTINUATION, cleanup: false } : null,
      model,
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

/** PRETOKENIZE with digit runs cut as splitDigits cuts them, for tokenizers that map each piece whole. */
const WHOLE_NUMBER_PRETOKENIZE = PRETOKENIZE.source.replace('\\d+', '0|[1-9]\\d{0,2}');

function splitDigits(run: string): string[] {
  if (run.length <= 3 && String(Number(run)) === run) return [run];
  if (run.startsWith('0')) return ['0', ...(run.length > 1 ? splitDigits(run.slice(1)) : [])];
  return [run.slice(0, 3), ...splitDigits(run.slice(3))];
}
