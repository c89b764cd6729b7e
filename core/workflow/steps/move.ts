import { archiveDestination, moveInput, quarantineDestination } from '../input-moves';
import { defineStep, type StepRun } from '../step';

async function move(run: StepRun, destination: string, event: string): Promise<void> {
  const wasInput = run.inputPath === run.file.location;
  run.file = await moveInput(run.journal, run.file, destination, event);
  if (wasInput) run.inputPath = run.file.location;
}

/** Out of the watched tree (chokidar 5 holds a watch per file) into <data>/archive/<account>/<flux>/. */
export const archiveStep = defineStep({
  name: 'archive',
  description: 'Move the input to <data>/archive/<account>/<flux>/ (kept for retention.archiveDays)',
  async run(run) {
    await move(run, archiveDestination(run.paths, run.file), 'archived');
  },
});

export const quarantineStep = defineStep({
  name: 'quarantine',
  description: 'Move the input to <data>/quarantine/<account>/<flux>/ (kept for retention.quarantineDays)',
  async run(run) {
    await move(run, quarantineDestination(run.paths, run.file), 'quarantined');
  },
});
