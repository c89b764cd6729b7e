import { readdirSync, readFileSync } from 'node:fs';

/** The nice value of each thread of this process (Linux /proc), by thread id. */
export function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which ends with ") ": state is field 3, nice field 19.
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16]));
    } catch { /* the thread ended */ }
  }
  return nice;
}
