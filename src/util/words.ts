// Word matching shared by the filters and the scorers: a word counts only as a whole word
// (its singular or its plural), never inside another word ("bowl" is no owl, "catch" no cat,
// "million" no lion). Identifiers are split too, so "owlCount" and "OWL_LIST" name the owl. Pure.

/** English plural of a lower-case noun, with the irregular forms the animal list needs. */
const IRREGULAR_PLURALS: Record<string, string> = {
  wolf: 'wolves',
  mouse: 'mice',
  goose: 'geese',
  sheep: 'sheep',
  deer: 'deer',
  fish: 'fish',
};
export function plural(word: string): string {
  if (IRREGULAR_PLURALS[word]) return IRREGULAR_PLURALS[word];
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/** The forms of a word that count as naming it: singular and plural, lower case. */
export const wordForms = (word: string): string[] => [...new Set([word.toLowerCase(), plural(word.toLowerCase())])];

/** Words of a text, lower case, with identifiers split: snake_case, kebab-case, camelCase, digits. */
export function identifierWords(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2') // camelCase -> camel Case
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2') // HTTPServer -> HTTP Server
    .split(/[^A-Za-z]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Does the text name the word (singular or plural) as a whole word? */
export function mentionsWord(text: string, word: string): boolean {
  if (!word) return false;
  const forms = new Set(wordForms(word));
  return identifierWords(text).some((w) => forms.has(w));
}

/** Is this vocabulary token exactly the word (any case, singular or plural, surrounding spaces ignored)? */
export function isWordToken(token: string, word: string): boolean {
  return wordForms(word).includes(token.trim().toLowerCase());
}

/** Which of `words` the text names first (as whole words), or undefined. */
export function firstWordNamed(text: string, words: readonly string[]): string | undefined {
  const byForm = new Map<string, string>();
  for (const w of words) for (const f of wordForms(w)) if (!byForm.has(f)) byForm.set(f, w);
  for (const w of identifierWords(text)) {
    const hit = byForm.get(w);
    if (hit) return hit;
  }
  return undefined;
}
