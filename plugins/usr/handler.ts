import {
  canonicalJson, fluxHandler, rejectRow, RowChecker,
  type DirectoryUser, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type SourceRecord,
} from '../../core/plugin-api';

const LANGUAGE = /^[a-z]{2}([-_][a-z]{2})?$/i;

function readUser(record: SourceRecord, profiles: readonly string[], organizations: ReadonlySet<string>): { checker: RowChecker; user: DirectoryUser } {
  const c = new RowChecker(record);
  const login = c.text('login', { required: true, max: 255 });
  const profileCode = c.text('profile_code', { required: true, max: 64 });
  if (profileCode !== null && !profiles.includes(profileCode)) {
    c.problem('profile_code', 'FG_INVALID_VALUE', `profile_code '${profileCode}' is not one of the configured profiles (${profiles.join(', ')})`);
  }
  const orgField = c.text('organization_code', { required: true, max: 4096 });
  const listed = orgField === null ? [] : orgField.split('|').map((s) => s.trim());
  const organizationCodes = [...new Set(listed.filter(Boolean))];
  if (orgField !== null && organizationCodes.length === 0) c.problem('organization_code', 'FG_REQUIRED', 'organization_code is required');
  // ACME||ACME-FR or a trailing |: a code lost on the way, which the row must not silently drop.
  else if (listed.includes('')) {
    c.problem('organization_code', 'FG_INVALID_VALUE', `organization_code has an empty element in its |-separated list (element ${listed.indexOf('') + 1} of ${listed.length})`);
  }
  for (const code of organizationCodes) {
    if (!organizations.has(code)) c.problem('organization_code', 'FG_UNKNOWN_REF', `organization_code '${code}' does not exist: send it in a sir file first`);
  }
  let language = c.text('language', { max: 10 });
  if (language !== null) {
    if (LANGUAGE.test(language)) language = language.toLowerCase().replace('_', '-');
    else { c.problem('language', 'FG_INVALID_VALUE', 'language must look like fr-fr or en'); language = null; }
  }
  const user: DirectoryUser = {
    login: login ?? '',
    email: c.email('email', { required: true, max: 255 }) ?? '',
    firstname: c.text('firstname', { required: true, max: 100 }) ?? '',
    lastname: c.text('lastname', { required: true, max: 100 }) ?? '',
    profileCode: profileCode ?? '',
    organizationCodes,
    attributes: {
      phone_number: c.text('phone_number', { max: 50 }),
      mobile_phone_number: c.text('mobile_phone_number', { max: 50 }),
      language,
      saml_token: c.text('saml_token'),
    },
  };
  return { checker: c, user };
}

/** usr: document-management users of an exchange account, keyed by login. */
@fluxHandler({
  apiVersion: 2,
  flux: 'usr',
  description: 'Document-management users (exchange usr files)',
  profiles: ['exchange'],
  permissions: { read: ['in/usr'], write: ['out/usr'], network: false },
})
export class UsrHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const organizations = new Set((await ctx.directory.listOrganizations()).map((o) => o.code));
    const byLogin = new Map<string, Array<{ line: number; user: DirectoryUser; json: string }>>();
    let rows = 0;
    const required = ['login', 'email', 'firstname', 'lastname', 'profile_code', 'organization_code'];
    // Every record of a file shares its header's columns.
    let columns: Readonly<Record<string, number>> = {};
    for await (const record of ctx.records({ dialect: 'exchange', required })) {
      if (rows++ === 0) columns = record.columns;
      const { checker, user } = readUser(record, ctx.settings.userProfiles, organizations);
      if (!checker.ok) { rejectRow(ctx.report, record.line, checker.problems, user.login || undefined); continue; }
      const key = user.login.toLowerCase();
      byLogin.set(key, [...(byLogin.get(key) ?? []), { line: record.line, user, json: canonicalJson(user) }]);
    }
    const accepted: Array<{ line: number; user: DirectoryUser }> = [];
    for (const list of byLogin.values()) {
      if (new Set(list.map((r) => r.json)).size > 1) {
        const lines = list.map((r) => r.line);
        for (const r of list) {
          rejectRow(ctx.report, r.line, [{ field: 'login', column: columns.login, code: 'FG_DUP_IN_FILE',
            message: `login ${r.user.login} appears on lines ${lines.join(', ')} with different data: all these rows are rejected` }], r.user.login);
        }
      } else {
        accepted.push(...list);
      }
    }
    accepted.sort((a, b) => a.line - b.line);
    // One batch: the file's users apply together or not at all.
    const options = { dryRun: !ctx.apply, sourceFile: file.id };
    const kinds = await ctx.directory.batch(accepted.map(({ user }) => ({ method: 'upsertUser', args: [user, options] }) as const));
    accepted.forEach(({ line, user }, i) => ctx.report.count(kinds[i], user.login, line));
    const k = ctx.report.counts;
    return { result: 'processed', summary: `${rows} rows: ${k.created} created, ${k.updated} updated, ${k.unchanged} unchanged, ${k.rejected} rejected` };
  }
}
