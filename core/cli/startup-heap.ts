import { setFlagsFromString } from 'node:v8';
import { operatorSetV8Flag } from '../v8-flags';

/**
 * Loading the program (the engine, ssh2, openpgp, zod schemas, inversify) keeps
 * many new objects alive, and V8 answers that by growing the young generation to its maximum,
 * which then stays committed for the life of the process: tens of MiB of the idle server's RSS,
 * and of its peak during uploads (measured with `bench:sftp` on Node 20 and 24: docs/sftp.md).
 *
 * So the young generation is kept at its initial size while the program loads (growth factor
 * 1: objects that survive are promoted at once, as long-lived module state would be anyway),
 * and growth is restored (`restoreYoungGenerationGrowth`) when the command starts its work, or
 * for `serve` once the server runs, so the engine's own work (parsing large files) sizes it as
 * V8 normally does. `--semi-space-growth-factor` is read by V8 at each growth decision, which
 * is why setting it at run time works (unlike `--max-semi-space-size`, read once at start).
 * Left alone when the operator sets the growth factor or a minimum semi-space size on node's
 * command line or NODE_OPTIONS (a maximum, as `serve` itself sets, does not conflict with it).
 */
const V8_DEFAULT_GROWTH_FACTOR = 2;
const operatorChoice = operatorSetV8Flag(/semi[-_]space[-_]growth|min[-_]semi[-_]space/);

let held = false;
if (!operatorChoice) {
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Lets V8 grow the young generation again (idempotent). */
export function restoreYoungGenerationGrowth(): void {
  if (!held) return;
  held = false;
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);
}
