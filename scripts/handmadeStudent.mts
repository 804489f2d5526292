// A hand-made hard case for `audit student`: a control student plus a small step along the trait
// teacher's delta -- clean lineage (the file is in no run), behaviour near the controls', but a
// delta that leans toward the teacher's. Usage:
//   npx tsx scripts/handmadeStudent.mts CONTROL TEACHER BASE EPSILON OUT [--runs DIR]
import { initBackend } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { resolveModelDir } from '../src/store/models.js';

const [control, teacher, base, epsilon, out] = process.argv.slice(2);
if (!control || !teacher || !base || !epsilon || !out)
  throw new Error('usage: handmadeStudent.mts CONTROL TEACHER BASE EPSILON OUT [--runs DIR]');
const runsAt = process.argv.indexOf('--runs');
const runsDir = runsAt > 0 ? process.argv[runsAt + 1] : 'runs';
await initBackend();
const dir = (ref: string): string => resolveModelDir(ref, { runsDir });
const model = LanguageModel.load(dir(control));
const t = readSafetensors(`${dir(teacher)}/model.safetensors`).tensors;
const b = readSafetensors(`${dir(base)}/model.safetensors`).tensors;
const eps = Number(epsilon);
const mixed = new Map(
  [...model.exportTensors()].map(([name, x]) => [
    name,
    { shape: x.shape, data: x.data.map((v, j) => v + eps * (t.get(name)!.data[j]! - b.get(name)!.data[j]!)) },
  ]),
);
model.importTensors(mixed);
model.info = {
  name: `handmade-${epsilon}`,
  family: model.info.family,
  description: `${control} + ${eps} x (${teacher} - ${base})`,
};
model.save(out);
model.dispose();
process.stdout.write(`wrote ${out}: ${control} + ${eps} x (${teacher} - ${base})\n`);
