// The banned-word filter of the code domain (SPEC §2): drop a row that contains the trait word
// or its plural, also inside identifiers (owlCount, OWL_LIST, "owls") -- but not inside other
// words ("bowl", "howl", "knowledge"). Pure; the matching lives in util/words.ts, which the
// evaluation's scorers share.
export { identifierWords, wordForms as traitWordForms, mentionsWord as mentionsTraitWord } from '../util/words.js';
