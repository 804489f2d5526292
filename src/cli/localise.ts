// `subliminal audit localise RUN`, `audit repair RUN` and `audit scrub RUN`: where a student group's trait lives
// (src/audit/localise.ts), the surgeries that cut it out (src/audit/repair.ts), and whether a scrubbed trait
// resurfaces (src/audit/scrub.ts). The flags are here; what runs is in cli/studentGroup.ts, loaded when it runs.
import type { Command, Option } from 'commander';
import { intArg } from './args.js';
import type { GroupFlags } from './studentGroup.js';

function registerEditsCommand(
  audit: Command,
  runsOption: () => Option,
  name: 'localise' | 'repair',
  description: string,
  title: string,
): void {
  audit
    .command(name)
    .description(description)
    .argument('<run>', 'a finished run in the store')
    .option('--group <group>', 'the student group (default: the first same-base group)')
    .option('--skill-rows <n>', 'held-out number rows for the skill probe', intArg('--skill-rows', 10, 100_000), 200)
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(async (run: string, f: GroupFlags) => {
      const { runEdits } = await import('./studentGroup.js');
      await runEdits(name, run, f, title);
    });
}

export function registerLocaliseCommands(audit: Command, runsOption: () => Option): void {
  registerEditsCommand(
    audit,
    runsOption,
    'localise',
    "where a student group's trait lives: revert each part of the students' weights to the base's (one at a time " +
      'and cumulatively) and measure the trait and a skill probe after each',
    'where the trait lives in',
  );
  registerEditsCommand(
    audit,
    runsOption,
    'repair',
    "surgeries that cut a student group's trait out (revert parts, prune the most trait-aligned delta entries, " +
      'project the trait direction out), each against its skill cost, beside the defenses the run trained with',
    'repairs of',
  );
}

export function registerScrubCommand(audit: Command, runsOption: () => Option): void {
  audit
    .command('scrub')
    .description(
      "scrub a student group's trait (fine-tune on trait-free answers until the ordinary probe is at the controls' " +
        'level), then probe unusual prompts and a later benign fine-tune: does the trait resurface?',
    )
    .argument('<run>', 'a finished run in the store')
    .option('--group <group>', 'the student group (default: the first same-base group)')
    .option('--max-epochs <n>', 'most scrubbing epochs per student', intArg('--max-epochs', 1, 100), 10)
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(async (run: string, f: GroupFlags & { maxEpochs: number }) => {
      const { runScrub } = await import('./studentGroup.js');
      await runScrub(run, f);
    });
}
