// Every model a user can name, and the one resolver from a name to its folder: a path (relative to the working
// directory, the spec's folder or the installed package), an embedded base (family-a: models/family-a), a model
// published by a fine-tuning job of `subliminal serve`, or a run-store model (run/name, as `subliminal serve` and
// `subliminal runs` name them). Specs, the audits, `export` and `serve` all resolve through here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { RunIndex } from './index.js';

export interface NamedModel {
  id: string;
  dir: string;
  created: number;
  ownedBy: string;
}
export interface ModelPlaces {
  /** the embedded bases (default: the package's models/) */
  modelsDir?: string;
  /** the run store, for run/name models */
  runsDir?: string;
  /** where serve publishes fine-tuned models (default: <runsDir>/serve/models) */
  fineTunedDir?: string;
}

export const isModelDir = (dir: string): boolean =>
  existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, 'config.json'));
const created = (dir: string): number => Math.floor(statSync(join(dir, 'model.safetensors')).mtimeMs / 1000);

/** Every named model: embedded bases, fine-tuned models, then run-store models. */
export function listModels(o: ModelPlaces): NamedModel[] {
  const out: NamedModel[] = [];
  const scan = (root: string, ownedBy: string): void => {
    if (!existsSync(root)) return;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (isModelDir(dir))
        out.push({
          id: ownedBy === 'subliminal-ft' ? decodeURIComponent(name) : name,
          dir,
          created: created(dir),
          ownedBy,
        });
    }
  };
  scan(o.modelsDir ?? join(PACKAGE_ROOT, 'models'), 'subliminal');
  const fineTuned = o.fineTunedDir ?? (o.runsDir && join(o.runsDir, 'serve', 'models'));
  if (fineTuned) scan(fineTuned, 'subliminal-ft');
  const indexPath = o.runsDir && join(o.runsDir, 'index.sqlite');
  if (indexPath && existsSync(indexPath)) {
    const index = new RunIndex(indexPath);
    try {
      // runArtifacts, not artifacts: a model two runs made alike (the same teacher) is one row, recorded under the
      // last run
      for (const run of index.runs())
        for (const a of index.runArtifacts(run.name)) {
          const dir = resolve(o.runsDir!, a.path);
          if (a.kind === 'model' && isModelDir(dir) && !a.name.startsWith('base-'))
            out.push({ id: `${run.name}/${a.name}`, dir, created: created(dir), ownedBy: `run:${run.name}` });
        }
    } finally {
      index.close();
    }
  }
  return out;
}

/** A model's folder from any way of naming it; the error lists where it looked. */
export function resolveModelDir(ref: string, o: ModelPlaces & { specPath?: string } = {}): string {
  const candidates = isAbsolute(ref)
    ? [ref]
    : [...new Set([resolve(ref), ...(o.specPath ? [resolve(dirname(o.specPath), ref)] : []), join(PACKAGE_ROOT, ref)])];
  for (const c of candidates) if (existsSync(join(c, 'model.safetensors'))) return c;
  const named = isAbsolute(ref) ? undefined : listModels(o).find((m) => m.id === ref);
  if (named) return named.dir;
  throw new Error(
    `model "${ref}" not found (looked in ${candidates.join(', ')}, and among the model names "subliminal serve" ` +
      'lists); expected a folder with model.safetensors, config.json and tokenizer.json, or a model name',
  );
}

/** The folder of a run's local base (its spec names it relative to the spec file, which the index remembers). */
export function runBaseDir(runsDir: string, run: string, baseRef: string): string {
  const indexPath = join(runsDir, 'index.sqlite');
  let specPath: string | undefined;
  if (existsSync(indexPath)) {
    const index = new RunIndex(indexPath);
    try {
      specPath = index.run(run)?.spec_path;
    } finally {
      index.close();
    }
  }
  return resolveModelDir(baseRef, { runsDir, specPath });
}
