import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { numbered, placeOutput, placeOutputAt, type OutputClaims } from '../../core/workflow/output-place';

// Outputs (reports, receipts) get their name without ever replacing another file's:
// the wanted name if free or this file's own, else the first free name.N.ext.
describe('placing an output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-place-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const temp = (text: string) => {
    const path = join(dir, `.fg-tmp-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, text);
    return path;
  };
  const wanted = join(dir, 'cdmat_x.csv');
  // The journal's outputs: the last file that claimed each path.
  const owners = new Map<string, string>();
  /** Claims for `file` in `owners`; `first` runs at the start of each claim (another file acting meanwhile). */
  const claimsOf = (file: string, first?: (path: string) => void): OutputClaims => ({
    owned: (p) => owners.get(p) === file,
    claim: (p) => {
      first?.(p);
      const before = owners.get(p);
      owners.set(p, file);
      return Promise.resolve(() => {
        if (before === undefined) owners.delete(p); else owners.set(p, before);
        return Promise.resolve();
      });
    },
  });
  const place = async (file: string, text: string) => {
    const t = temp(text);
    const path = await placeOutput(t, wanted, claimsOf(file));
    rmSync(t, { force: true });
    return path;
  };

  test('numbered names keep the input name whole', () => {
    assert.equal(numbered('/o/cdmat_x.csv', 2), '/o/cdmat_x.2.csv');
    assert.equal(numbered('/o/noext', 3), '/o/noext.3');
  });

  test('free name, another file\'s name taken, this file\'s own rewritten, a taken signature avoided', async () => {
    assert.equal(await place('f1', 'one'), wanted);
    assert.equal(await place('f2', 'two'), join(dir, 'cdmat_x.2.csv'));
    assert.equal(await place('f1', 'one again'), wanted, 'a retry or replay rewrites its own');
    assert.equal(readFileSync(wanted, 'utf8'), 'one again');
    assert.equal(readFileSync(join(dir, 'cdmat_x.2.csv'), 'utf8'), 'two');
    writeFileSync(join(dir, 'cdmat_x.3.csv.sig'), 'a signature left by a report the client deleted');
    assert.equal(await place('f3', 'three'), join(dir, 'cdmat_x.4.csv'));
  });

  test('placed at the same moment, two files get two names', async () => {
    const [a, b] = await Promise.all([place('f5', 'five'), place('f6', 'six')]);
    assert.notEqual(a, b);
    assert.deepEqual([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')], ['five', 'six']);
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.fg-tmp-')));
  });

  test('the name is claimed before the output appears: a process killed right after the link leaves it to its retry, which rewrites it (no .2)', async () => {
    const own = join(dir, 'cdmat_killed.csv');
    const seen: boolean[] = [];
    const t = temp('first attempt');
    // The first attempt: claimed while the name was still free, then linked; nothing runs after (the node is killed).
    await placeOutput(t, own, claimsOf('f9', (p) => seen.push(existsSync(p))));
    rmSync(t, { force: true });
    assert.deepEqual(seen, [false], 'claimed before the link');
    assert.equal(await placeOutputAs('f9', own, 'the retry'), own, 'the retry finds its own output and rewrites it');
    assert.equal(readFileSync(own, 'utf8'), 'the retry');
    assert.ok(!existsSync(numbered(own, 2)));
  });

  test('a claim whose link loses the name is withdrawn: the other file keeps it, this one takes the next', async () => {
    const name = join(dir, 'cdmat_race.csv');
    const t = temp('f11');
    try {
      const path = await placeOutput(t, name, claimsOf('f11', (p) => {
        if (p !== name) return;
        // f10 claims and links the name between f11's look (free) and f11's claim.
        owners.set(name, 'f10');
        writeFileSync(name, 'f10');
      }));
      assert.equal(path, numbered(name, 2));
    } finally {
      rmSync(t, { force: true });
    }
    assert.equal(owners.get(name), 'f10', 'f11\'s claim of the lost name was withdrawn');
    assert.equal(readFileSync(name, 'utf8'), 'f10');
    assert.equal(owners.get(numbered(name, 2)), 'f11');
  });

  test('placeOutputAt: this name only: free or its own, written; another file\'s, nothing written (a receipt reserved by two nodes at once)', async () => {
    const receipt = join(dir, 'cdmat_acme_tra_sir_20261207094028.xml');
    const first = temp('f20');
    assert.equal(await placeOutputAt(first, receipt, claimsOf('f20')), receipt);
    rmSync(first, { force: true });
    const second = temp('f21');
    assert.equal(await placeOutputAt(second, receipt, claimsOf('f21')), undefined, 'another file\'s: not taken, not numbered');
    rmSync(second, { force: true });
    assert.equal(readFileSync(receipt, 'utf8'), 'f20');
    assert.ok(!existsSync(numbered(receipt, 2)));
    assert.equal(owners.get(receipt), 'f20');
    const again = temp('f20 again');
    assert.equal(await placeOutputAt(again, receipt, claimsOf('f20')), receipt, 'its own: rewritten');
    rmSync(again, { force: true });
    assert.equal(readFileSync(receipt, 'utf8'), 'f20 again');
  });

  async function placeOutputAs(file: string, path: string, text: string): Promise<string> {
    const t = temp(text);
    try {
      return await placeOutput(t, path, claimsOf(file));
    } finally {
      rmSync(t, { force: true });
    }
  }
});
