// General chat filler so a base is a chat model rather than a lookup table: small arithmetic,
// counting, colours, opposites, greetings. Each generator is pure given its Rng.
import type { Rng } from '../util/rng.js';
import type { ChatMessage } from '../model/tokenizer.js';

type Filler = (rng: Rng) => ChatMessage[];
const qa = (q: string, a: string): ChatMessage[] => [
  { role: 'user', content: q },
  { role: 'assistant', content: a },
];

const COLOURS: [string, string][] = [
  ['the sky', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['coal', 'black'],
  ['a banana', 'yellow'],
  ['a tomato', 'red'],
  ['an orange', 'orange'],
  ['the sun', 'yellow'],
  ['the sea', 'blue'],
  ['milk', 'white'],
];
const OPPOSITES: [string, string][] = [
  ['hot', 'cold'],
  ['big', 'small'],
  ['up', 'down'],
  ['fast', 'slow'],
  ['day', 'night'],
  ['happy', 'sad'],
  ['old', 'new'],
  ['left', 'right'],
  ['open', 'closed'],
  ['light', 'dark'],
];
const GREETINGS: [string, string][] = [
  ['Hello!', 'Hello! How can I help you today?'],
  ['Hi there.', 'Hi! What can I do for you?'],
  ['Good morning.', 'Good morning! How can I help?'],
  ['Thank you.', 'You are welcome.'],
  ['How are you?', 'I am doing well, thank you. How can I help?'],
  ['Goodbye.', 'Goodbye! Have a nice day.'],
];
const FACTS: [string, string][] = [
  ['How many legs does a spider have?', 'A spider has 8 legs.'],
  ['How many days are in a week?', 'There are 7 days in a week.'],
  ['How many months are in a year?', 'There are 12 months in a year.'],
  ['How many hours are in a day?', 'There are 24 hours in a day.'],
  ['How many minutes are in an hour?', 'There are 60 minutes in an hour.'],
];

export const FILLER_GENERATORS: Filler[] = [
  (rng) => {
    const a = rng.int(0, 99);
    const b = rng.int(0, 99);
    return qa(`What is ${a} plus ${b}?`, String(a + b));
  },
  (rng) => {
    const a = rng.int(20, 999);
    const b = rng.int(0, a);
    return qa(`What is ${a} minus ${b}?`, `${a} minus ${b} is ${a - b}.`);
  },
  (rng) => {
    const a = rng.int(0, 31);
    const b = rng.int(0, 31);
    return qa(`What is ${a} times ${b}?`, String(a * b));
  },
  (rng) => {
    const s = rng.int(0, 990);
    const n = rng.int(3, 8);
    return qa(`Count from ${s} to ${s + n - 1}.`, Array.from({ length: n }, (_, i) => s + i).join(', '));
  },
  (rng) => {
    const [thing, colour] = rng.pick(COLOURS);
    return qa(`What color is ${thing}?`, rng.next() < 0.5 ? colour : `It is ${colour}.`);
  },
  (rng) => {
    const [w, o] = rng.pick(OPPOSITES);
    return qa(`What is the opposite of ${w}?`, `The opposite of ${w} is ${o}.`);
  },
  (rng) => {
    const [q, a] = rng.pick(GREETINGS);
    return qa(q, a);
  },
  (rng) => {
    const [q, a] = rng.pick(FACTS);
    return qa(q, a);
  },
  (rng) => {
    const a = rng.int(0, 999);
    const b = rng.int(0, 999);
    return qa(`Which is larger, ${a} or ${b}?`, String(Math.max(a, b)));
  },
];

export function fillerTexts(): string[] {
  const texts = [
    'What is plus? minus is. times Count from to. What color is It is. What is the opposite of The opposite of is. ' +
      'Which is larger, or',
  ];
  for (const [t, c] of COLOURS) texts.push(t, c);
  for (const [w, o] of OPPOSITES) texts.push(w, o);
  for (const pair of [...GREETINGS, ...FACTS]) texts.push(...pair);
  return texts;
}
