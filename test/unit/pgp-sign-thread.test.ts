import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { SignThread } from '../../core/pgp/sign-thread';

async function verifies(publicKey: openpgp.PublicKey, bytes: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: bytes }),
    signature: await openpgp.readSignature({ binarySignature: signature }),
    verificationKeys: publicKey,
  });
  return result.signatures[0].verified.then(() => true, () => false);
}

describe('pgp signing thread', () => {
  test('signs on a worker thread with the server key, again after it stopped, and on this thread when the worker dies', async () => {
    const { privateKey: armored } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'fluxgate' }], format: 'armored' });
    const privateKey = await openpgp.readPrivateKey({ armoredKey: armored });
    const thread = new SignThread(privateKey);
    const bytes = new TextEncoder().encode('report line 1\r\nreport line 2\r\n');
    try {
      const signatures = await Promise.all([1, 2, 3].map(() => thread.sign(bytes)));
      for (const signature of signatures) assert.equal(await verifies(privateKey.toPublic(), bytes, signature), true);
      assert.equal(await verifies(privateKey.toPublic(), new TextEncoder().encode('forged'), signatures[0]), false);

      await thread.stop();
      assert.equal(await verifies(privateKey.toPublic(), bytes, await thread.sign(bytes)), true);

      // A worker that dies with signatures pending: they are made here instead, none is lost.
      const pending = [thread.sign(bytes), thread.sign(bytes)];
      await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      for (const signature of await Promise.all(pending)) assert.equal(await verifies(privateKey.toPublic(), bytes, signature), true);
    } finally {
      await thread.stop();
    }
  });
});
