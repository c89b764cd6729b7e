import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './config/load';

let version: string | undefined;

/** The version of package.json: the one npm installed, whatever runs it (sources or dist/). */
export function fluxgateVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
