import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { TestServer } from '../helpers/server';
import { startEchoServer, type JournalProbe } from '../e2e/engine-support';

/** A production server: test files are not applied; forwarded fluxes go to a directory and an HTTP endpoint. */
describe('engine: production test files and the forward step', () => {
  let server: TestServer;
  let probe: JournalProbe;
  let paths: DataPaths;
  let http: Server;
  const posts: Array<{ name: string; sha256: string; body: Buffer }> = [];
  let failNextPost = true;

  before(async () => {
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // The first POST fails: the forward is retried like any transient failure.
        if (failNextPost) { failNextPost = false; res.writeHead(503).end(); return; }
        posts.push({ name: String(req.headers['x-fluxgate-file-name']), sha256: String(req.headers['x-fluxgate-sha256']), body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/incoming`;
    ({ server, paths, probe } = await startEchoServer({
      environment: 'production',
      pgp: { signReports: false, keyType: 'curve25519' },
      forward: { sig: { directory: 'forwarded/sig' }, pro: { url } },
    }));
  });
  after(async () => {
    await server?.cleanup();
    http?.close();
  });

  const drop = async (rel: string, content: string) => {
    const target = join(paths.accountRoot('acme'), rel);
    writeFileSync(`${target}.filepart`, content);
    renameSync(`${target}.filepart`, target);
    return probe.finished(rel.split('/').pop()!);
  };

  test('a test file (version tst) is validated and reported but not applied in production', async () => {
    const f = await drop('in/echo/ndmat_acme_acme_echo_tst_261120130300.csv', 'a\nb\n');
    assert.equal(f.state, 'processed');
    assert.equal(f.naming?.version, 'tst');
    assert.ok(!existsSync(join(server.dataDir, 'vault', 'acme', 'echo', `${f.id}.json`)), 'nothing applied');
    const report = readFileSync(f.reportPath!, 'utf8');
    assert.match(report, /;info;FG_TEST_FILE;;test file/);
    assert.match(report, /\r\ncreated;2\r\n/, 'still validated and counted');
    // A normal file is applied.
    const normal = await drop('in/echo/ndmat_acme_acme_echo_v1_261120130301.csv', 'a\n');
    assert.ok(existsSync(join(server.dataDir, 'vault', 'acme', 'echo', `${normal.id}.json`)));
  });

  test('forward to a directory (config forward.sig): the file is copied unchanged, then archived', async () => {
    const f = await drop('in/sig/ndmat_acme_acme_sig_261120130000.pdf', '%PDF-1.4 signature request\n');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    // forward.sig.directory is relative to the config file (server.dir), like every path of the file.
    const copy = join(server.dir, 'forwarded', 'sig', 'ndmat_acme_acme_sig_261120130000.pdf');
    assert.equal(readFileSync(copy, 'utf8'), '%PDF-1.4 signature request\n');
    assert.equal(existsSync(join(server.dataDir, 'forwarded')), false);
    assert.ok(f.location.includes('/archive/acme/sig/'));
    assert.ok(existsSync(f.reportPath!));
  });

  test('forward by HTTP POST (config forward.pro): a failed POST is retried, then delivered once', async () => {
    const f = await drop('in/pro/ndmat_acme_acme_pro_261120130100.xml', '<pro/>\n');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.attempts, 2);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].name, 'ndmat_acme_acme_pro_261120130100.xml');
    assert.equal(posts[0].body.toString(), '<pro/>\n');
    assert.equal(posts[0].sha256, f.sha256);
  });

  test('a forwarded flux with no target configured is dead at once, reported and quarantined', async () => {
    const f = await drop('in/rpa/emp/ndmat_acme_acme_rpa_261120130200.csv', 'x\n');
    assert.equal(f.state, 'dead');
    assert.equal(f.attempts, 1);
    assert.equal(f.outcome?.code, 'FG_WORKFLOW_INVALID');
    assert.match(f.outcome.summary!, /no forward target for flux "rpa\/emp"/);
    assert.ok(f.location.includes('/quarantine/acme/rpa/emp/'));
    assert.match(readFileSync(f.reportPath!, 'utf8'), /FG_WORKFLOW_INVALID/);
    assert.ok(f.reportPath!.endsWith('/out/rpa/emp/cdmat_acme_acme_rpa_261120130200.csv'));
  });
});
