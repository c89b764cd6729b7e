import { InvalidArgumentError } from 'commander';

/** `on|off` (also true/false, yes/no) for switches given as a value. */
export function parseOnOff(value: string): boolean {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  throw new InvalidArgumentError(`"${value}" is not on or off`);
}
