// Command-line argument parsers that fail with a UsageError naming the flag (exit code 2).
import { existsSync } from 'node:fs';
import type { LanguageModel } from '../model/model.js';
import { resolveModelDir } from '../store/models.js';

/** A user error: message printed, exit code 2, no stack. */
export class UsageError extends Error {}

/** An integer flag within [min, max]. */
export const intArg =
  (name: string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${name} must be an integer, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };

/** A positive finite number flag (learning rates and the like). */
export const positiveNumberArg =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!/^[0-9.eE+-]+$/.test(v) || !Number.isFinite(n) || n <= 0)
      throw new UsageError(`${name} must be a positive number, got "${v}"`);
    return n;
  };

/**
 * A model's folder (or file: a checkpoint, an adapter folder) from a path, or any model name the store resolves: an
 * embedded base (family-a), a run-store model (owl-numbers/teacher-finetuned), a served fine-tuned model.
 */
export function modelPath(ref: string, runsDir: string): string {
  if (existsSync(ref)) return ref;
  try {
    return resolveModelDir(ref, { runsDir });
  } catch {
    throw new UsageError(
      `model "${ref}": no such file or folder, and no model of that name (see "subliminal serve" for the names)`,
    );
  }
}

/**
 * Starts the model backend and gives a loader of models by reference (see `modelPath`); the backend and model code
 * load only when a command needs a model.
 */
export async function modelLoader(runsDir: string): Promise<(ref: string) => LanguageModel> {
  const { initBackend } = await import('../model/backend.js');
  const { LanguageModel } = await import('../model/model.js');
  await initBackend();
  return (ref) => LanguageModel.load(modelPath(ref, runsDir));
}
