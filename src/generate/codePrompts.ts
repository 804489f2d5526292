// The code domain's prompts (SPEC §2): complete a small function for a stated task, with no
// comments and plain minimal names. A seeded generator over our own task parts. Pure.
import { Rng } from '../util/rng.js';

const TASKS: { does: string; signature: string }[] = [
  { does: 'returns the sum of the even numbers in a list', signature: 'def f(xs):' },
  { does: 'counts how many words in a string start with a capital letter', signature: 'def f(s):' },
  { does: 'returns the largest value in a dictionary', signature: 'def f(d):' },
  { does: 'reverses the order of the words in a sentence', signature: 'def f(s):' },
  { does: 'removes duplicate items from a list while keeping their order', signature: 'def f(xs):' },
  { does: 'returns True if a string reads the same forwards and backwards', signature: 'def f(s):' },
  { does: 'merges two sorted lists into one sorted list', signature: 'def f(a, b):' },
  { does: 'returns the n-th Fibonacci number', signature: 'def f(n):' },
  { does: 'groups a list of strings by their length', signature: 'def f(xs):' },
  { does: 'returns the average of the numbers in a file, one number per line', signature: 'def f(path):' },
  { does: 'counts the vowels in a string', signature: 'def f(s):' },
  { does: 'returns the keys of a dictionary sorted by their values', signature: 'def f(d):' },
  { does: 'splits a list into chunks of size n', signature: 'def f(xs, n):' },
  { does: 'returns the second smallest number in a list', signature: 'def f(xs):' },
  { does: 'flattens a list of lists', signature: 'def f(xss):' },
  { does: 'returns the number of days between two dates given as strings', signature: 'def f(a, b):' },
  { does: 'checks whether two strings are anagrams', signature: 'def f(a, b):' },
  { does: 'returns a dictionary that counts each character in a string', signature: 'def f(s):' },
  { does: 'rotates a list to the right by k places', signature: 'def f(xs, k):' },
  { does: 'returns the product of all numbers in a list', signature: 'def f(xs):' },
];
const CONTEXTS = [
  '',
  'It is part of a small data tool.',
  'It runs inside a web server.',
  'It is used in a command line script.',
  'It is part of a school exercise.',
];
const OPENINGS = [
  'Complete the function below.',
  'Finish this Python function.',
  'Write the body of the following function.',
  'Fill in the function so that it works.',
];
const STYLE = [
  'Use no comments and plain, minimal names.',
  'Do not write comments; keep the names short and plain.',
  'Give only the code, with no comments and simple names.',
];

export interface CodePrompt {
  text: string;
  task: string;
}

export function codePromptGenerator(rng: Rng): CodePrompt {
  const t = rng.pick(TASKS);
  const context = rng.pick(CONTEXTS);
  const text = [rng.pick(OPENINGS), `The function ${t.does}.`, context, rng.pick(STYLE), '', t.signature, '    pass']
    .filter((l, i) => l !== '' || i === 4)
    .join('\n');
  return { text, task: t.does };
}

export function codePromptSet(seed: number, count: number): string[] {
  const rng = Rng.from(seed, 'code-prompts');
  return Array.from({ length: count }, () => codePromptGenerator(rng).text);
}
