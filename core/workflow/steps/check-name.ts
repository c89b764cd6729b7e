import { z } from 'zod';
import { FileRejection } from '../../plugin-api/outcome';
import { checkName, invisibleCharacter, visibleName } from '../naming';
import { defineStep } from '../step';

/** Exchange accounts: the name must follow the convention (checked without any .pgp/.gpg suffix). */
export const checkNameStep = defineStep<{ extensions?: string[] }>({
  name: 'check-name',
  description: 'Reject the file (FG_NAME_CONVENTION) unless its name follows the exchange naming convention',
  options: z.strictObject({ extensions: z.array(z.string()).min(1).optional() }),
  stage: 'arrival',
  async run(run, options) {
    if (run.account.profile !== 'exchange') return;
    // Said apart from the other naming faults: the client cannot see what is wrong in its listing.
    const invisible = invisibleCharacter(run.file.name);
    if (invisible) {
      throw new FileRejection('FG_NAME_INVISIBLE', `${visibleName(run.file.name)}: the name contains the invisible character ${invisible.codePoint} `
        + `at character ${invisible.position} (shown here as [${invisible.codePoint}]); it looks like another name in a listing. `
        + 'Upload the file again under a name of letters, digits, "_", "-" and "."', { part: 'name', ...invisible });
    }
    const check = checkName(run.file.name, {
      partner: run.account.partner ?? run.account.id,
      client: run.account.id,
      flux: run.workflow.naming.flux,
      extensions: options.extensions ?? run.workflow.naming.extensions,
    });
    if (!check.ok) {
      throw new FileRejection('FG_NAME_CONVENTION', `${run.file.name}: ${check.message}`, { part: check.part });
    }
    run.naming = check.parts;
    run.file = await run.journal.update(run.file.id, { naming: check.parts }) ?? run.file;
  },
});
