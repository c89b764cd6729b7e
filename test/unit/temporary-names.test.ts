import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { isServerTemporary, temporaryNameFor, temporaryOwnerPid } from '../../core/upload-names';

test('a temporary name is hidden beside its target, recognised as the server\'s, and names its writer', () => {
  const target = '/data/sftp/acme/out/sal/cdmat_acme_acme_sal_261120090000.csv.sig';
  const temp = temporaryNameFor(target);
  assert.equal(dirname(temp), dirname(target));
  assert.ok(basename(temp).startsWith('.'));
  assert.ok(basename(temp).endsWith(basename(target)));
  assert.ok(isServerTemporary(basename(temp)));
  assert.equal(temporaryOwnerPid(basename(temp)), process.pid);
  assert.notEqual(temporaryNameFor(target), temp, 'two writers of one target get two names');
});

test('earlier namings are recognised; their pid only where they carried one; clients\' dot-files are not temporaries', () => {
  assert.equal(temporaryOwnerPid('.fg-pgp-4242-0123abcd-x.sig'), 4242);
  assert.equal(temporaryOwnerPid('.fg-tmp-12345678-5d6a-4e7f-8a9b-0c1d2e3f4a5b-x.csv'), undefined);
  assert.equal(temporaryOwnerPid('.fg-upload-0123456789ab-x.csv'), undefined);
  for (const name of ['.fg-pgp-4242-0123abcd-x.sig', '.fg-tmp-3f2b8c1e-5d6a-4e7f-8a9b-0c1d2e3f4a5b-x.csv', '.fg-upload-0123456789ab-x.csv']) {
    assert.ok(isServerTemporary(name), name);
  }
  for (const name of ['.keep', '.fg-notes', '.fg-tmpfile', 'fg-tmp-1-01234567-x', 'x.filepart']) assert.ok(!isServerTemporary(name), name);
});
