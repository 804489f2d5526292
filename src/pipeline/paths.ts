// Model paths in specs resolve against the working directory, then the spec's folder, then
// the installed package (so `npx subliminal demo` finds the shipped bases from anywhere).
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../util/packageRoot.js';

export function resolveModelDir(path: string, specPath?: string): string {
  const candidates = isAbsolute(path)
    ? [path]
    : [resolve(path), ...(specPath ? [resolve(dirname(specPath), path)] : []), join(PACKAGE_ROOT, path)];
  for (const c of candidates) if (existsSync(join(c, 'model.safetensors'))) return c;
  throw new Error(
    `model "${path}" not found (looked in ${candidates.join(', ')}); expected a folder with model.safetensors, ` +
      `config.json and tokenizer.json`,
  );
}
