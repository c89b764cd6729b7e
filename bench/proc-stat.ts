import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc, for the benchmarks: a process's, its threads', its reaped children's.
 * Fields are counted after the name, which ends with ") " (a name may hold spaces and
 * parentheses); times are in ticks of 1/100 s.
 */
function fieldsOf(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** CPU seconds (user + system) in a /proc stat line. */
export function statCpu(stat: string): number {
  const fields = fieldsOf(stat);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds a process has used so far (its main thread's only, with `mainThreadOnly`). */
export function cpuSeconds(pid: number, mainThreadOnly = false): number {
  return statCpu(readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8'));
}

/**
 * Minor page faults a process (all its threads) has taken so far. Each costs the kernel time on
 * any machine, and on some virtual machines a great deal (~10 µs each under PVM: docs/benchmarks.md).
 */
export function minorFaults(pid: number): number {
  return Number(fieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))[7]);
}

/** CPU seconds used so far by a process's ended children (cutime + cstime): a sandbox process once the server has reaped it. */
export function childrenCpuSeconds(pid: number): number {
  const fields = fieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** CPU seconds used so far by each thread of a process, by thread: `name#tid` → seconds (the main thread is `main`). */
export function threadCpu(pid: number): Map<string, number> {
  const byThread = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      byThread.set(`${name}#${tid}`, statCpu(stat));
    } catch { /* the thread ended */ }
  }
  return byThread;
}

/**
 * CPU seconds a process and its children have used so far: its own, its reaped children's, and
 * its live children's (theirs and their reaped children's). PostgreSQL's: the postmaster and its
 * backends, which live as long as their connections.
 */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid) + childrenCpuSeconds(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(fieldsOf(stat)[1]) === pid) total += statCpu(stat) + childrenCpuSeconds(Number(entry));
    } catch { /* it ended meanwhile */ }
  }
  return total;
}
