// Command-line argument parsers that fail with a UsageError naming the flag (exit code 2).

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
