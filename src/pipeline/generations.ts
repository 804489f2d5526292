// Generations: chained distillation. Generation 1 is a teacher's own students; the first student (seed 1) of
// generation k writes generation k+1's rows from the same prompts through the same filter (and the chain's defense,
// applied again at every generation). The control teacher's chain runs beside it, so each generation has a control.
import { defenseLabel, type TeacherSpec } from '../spec/schema.js';
import { generationChains } from '../spec/generations.js';
import type { DefendReport } from '../defend/defendDataset.js';
import type { DatasetRef, RunContext } from './context.js';
import { defendedData, generatedRows, type ModelsAndData } from './teacherData.js';
import type { StudentTrainer } from './students.js';

/** One job per chain; each adds its students to the run's evaluations through `student`. */
export function generationJobs(
  ctx: RunContext,
  m: ModelsAndData,
  student: StudentTrainer,
  defenseReports: Record<string, DefendReport>,
): Promise<void>[] {
  const seeds = ctx.spec.students.seeds;
  return generationChains(ctx.spec).map(async (chain) => {
    const { defense, base } = chain;
    // what a mixing defense draws from, at every generation: the rows of the spec's other teachers
    const others = ctx.spec.teachers.filter((x) => x.name !== chain.root.name).map((x) => m.datasets.get(x.name)!);
    let teacher: TeacherSpec = chain.root;
    let models = m;
    for (let generation = 1; ; generation++) {
      let data: DatasetRef = models.datasets.get(teacher.name)!;
      if (defense) {
        const defended = await defendedData(ctx, models, teacher, defense, others);
        if (generation === 1) defenseReports[defenseLabel(defense)] ??= defended.report;
        data = defended.data;
      }
      const students = await Promise.all(
        Array.from({ length: seeds }, (_, k) => student(teacher, base, k, data, { defense, generation })),
      );
      if (generation === chain.teachers.length) return;
      // the next generation's teacher: this generation's first student, writing from the same prompts
      const next: TeacherSpec = { ...chain.root, name: chain.teachers[generation]! };
      const label = next.name + (defense ? `-${defenseLabel(defense)}` : '');
      const rows = await generatedRows(ctx, next, students[0]!, label);
      models = {
        ...models,
        teachers: new Map(models.teachers).set(next.name, students[0]!),
        datasets: new Map(models.datasets).set(next.name, rows),
      };
      teacher = next;
    }
  });
}
