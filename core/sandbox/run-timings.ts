/**
 * Where a sandboxed run's wall time went, on each side, recorded in the run's `sandbox` journal
 * event (`fluxgate files show`; bench:sal's (s) prints it): which side was the bound, and how long
 * each waited for the other. Milliseconds, rounded.
 *
 * - `sandbox` (measured by the sandbox process, so only informative: it is not trusted, and
 *   anything that is not a number from 0 to a day is left out): `startMs` from its process's start
 *   to its job (`connectMs` of it waiting for the engine's side to open the FIFOs), `handlerMs` its handler's run, `waitMs` the part of it spent waiting for the
 *   engine (blocked on an answer, or its event loop idle), `cpuMs` its main thread's CPU in
 *   the handler, `gcMs` its garbage collections' pauses.
 * - `engine` (the host worker): `openMs` opening the run's store and FIFOs (the FIFOs wait for the
 *   sandbox to open them too), `startMs` from the job written to the sandbox's first request
 *   (the sandbox's start as the engine sees it), `waitMs` blocked reading the sandbox's requests
 *   after that, `batchMs` applying batches (`readMs` of it reading and decoding them), `batches`,
 *   `cpuMs` its thread's CPU, `tailMs` from its last batch answered to the sandbox's end.
 */
export interface SandboxTimings {
  startMs: number; connectMs: number; handlerMs: number; waitMs: number; cpuMs: number; gcMs: number;
}

export interface EngineTimings {
  openMs: number; startMs: number; waitMs: number; batchMs: number; readMs: number; batches: number; cpuMs: number; tailMs: number;
}

const SANDBOX_FIELDS = ['startMs', 'connectMs', 'handlerMs', 'waitMs', 'cpuMs', 'gcMs'] as const;
const DAY_MS = 86_400_000;

/** The sandbox's timings as it sent them, each kept only if it is a plausible number of milliseconds. */
export function checkedSandboxTimings(sent: unknown): Partial<SandboxTimings> | undefined {
  if (!sent || typeof sent !== 'object') return undefined;
  const kept: Partial<SandboxTimings> = {};
  for (const field of SANDBOX_FIELDS) {
    const value = (sent as Record<string, unknown>)[field];
    if (typeof value === 'number' && value >= 0 && value <= DAY_MS) kept[field] = Math.round(value);
  }
  return kept;
}

/** Milliseconds of a thread's CPU so far (process.threadCpuUsage: the calling thread's only). */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}
