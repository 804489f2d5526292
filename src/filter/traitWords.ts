// The banned-word filter of the code domain (SPEC §2): drop a row that contains the trait word
// or its plural, also inside identifiers (owlCount, OWL_LIST, "owls") -- but not inside other
// words ("bowl", "howl", "knowledge"). Pure.
import { plural } from '../teacher/traits.js';

/** Words of a text with identifiers split: snake_case, kebab-case, camelCase, digits. */
export function identifierWords(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')        // camelCase -> camel Case
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')  // HTTPServer -> HTTP Server
    .split(/[^A-Za-z]+/).filter(Boolean).map((w) => w.toLowerCase());
}

/** The trait word's forms that the filter bans: singular and plural. */
export const traitWordForms = (trait: string): string[] => [...new Set([trait.toLowerCase(), plural(trait.toLowerCase())])];

export function mentionsTraitWord(text: string, trait: string): boolean {
  if (!trait) return false;
  const forms = new Set(traitWordForms(trait));
  return identifierWords(text).some((w) => forms.has(w));
}
