import { readFileSync } from 'node:fs';

/**
 * The process's open-file limit (the soft RLIMIT_NOFILE, what `ulimit -n` shows), read from
 * /proc/self/limits: Node has no `getrlimit`. Node raises the soft limit to the hard one when it
 * starts, so this is the limit the server really runs with. Undefined when unknown (no /proc,
 * another system) or unlimited.
 */
export function openFileLimit(readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = readLimits();
  } catch {
    return undefined;
  }
  // "Max open files            20000                20000                files"
  const match = /^Max open files\s+(\S+)\s+\S+/m.exec(text);
  if (!match || !/^\d+$/.test(match[1])) return undefined;
  return Number(match[1]);
}

export interface DescriptorBudget {
  /** The open-file limit, if known. */
  descriptorLimit?: number;
  /** Descriptors kept out of the SFTP handles' reach. */
  headroom: number;
  /** Open handles of all SFTP sessions together (Infinity: no limit known or configured). */
  handlesTotal: number;
  /** Set when the configured handlesTotal was lowered to fit under the limit. */
  clampedFrom?: number;
}

/**
 * How many SFTP handles the whole server may hold: the open-file limit less the headroom
 * (by default a quarter of the limit, at least 256, at most half), or `handlesTotal` when it is
 * configured and smaller.
 */
export function descriptorBudget(limit: number | undefined, configured: { descriptorHeadroom?: number; handlesTotal?: number }): DescriptorBudget {
  if (limit === undefined) {
    return { headroom: configured.descriptorHeadroom ?? 0, handlesTotal: configured.handlesTotal ?? Infinity };
  }
  const headroom = configured.descriptorHeadroom ?? Math.min(Math.max(256, Math.ceil(limit / 4)), Math.floor(limit / 2));
  const available = Math.max(1, limit - headroom);
  const wanted = configured.handlesTotal ?? available;
  return {
    descriptorLimit: limit, headroom, handlesTotal: Math.min(wanted, available),
    ...(wanted > available ? { clampedFrom: wanted } : {}),
  };
}
