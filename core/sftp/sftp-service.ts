import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Server, type Connection } from 'ssh2';
import type { LoadedConfig } from '../config/load';
import { nodeId } from '../config/node-id';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import type { AccountRepository } from '../store/ports/accounts';
import type { BanRepository } from '../store/ports/bans';
import type { Service } from '../tokens';
import { serverAlgorithms } from './algorithms';
import { Authenticator } from './authenticator';
import { BruteForceGuard } from './brute-force';
import { handleConnection } from './connection';
import { descriptorBudget, openFileLimit } from './descriptor-limit';
import { ensureHostKeys, hostKeysDir, loadHostKeys } from './host-keys';
import { LiveLogins } from './live-logins';
import { ProxyProtocol } from './proxy-protocol';
import { ResourceLimits } from './limits';
import { SharedBans } from './shared-bans';
import { StartupGate } from './startups';

/** The SSH/SFTP server (ssh2). Started last (core/composition): it accepts uploads once the engine runs. */
export class SftpService implements Service {
  readonly name = 'sftp';
  /** Accepts TCP connections and hands those the gate admits to ssh2 (`injectSocket`). */
  private server?: NetServer;
  private gate?: StartupGate;
  private logins?: LiveLogins;
  private bans?: SharedBans;
  private readonly clients = new Set<Connection>();
  private readonly log: Logger;
  /** `cluster.nodeId`, or this host's name and the SFTP port (known once listening): in the logs, `fluxgate nodes` and the bans it makes. */
  nodeId?: string;

  constructor(
    private readonly config: FluxgateConfig,
    logger: Logger,
    private readonly paths: DataPaths,
    private readonly accounts: AccountRepository,
    private readonly events: UploadEvents,
    private readonly loaded: LoadedConfig,
    /** Brute-force bans, in the store: shared by the nodes, kept across restarts. */
    private readonly banRepository: BanRepository,
  ) {
    this.log = logger.child({ component: 'sftp' });
  }

  /** This node's id and the address its SFTP server listens on (`fluxgate nodes`), once listening. */
  identity(): { id: string; address: string } {
    const bound = this.address();
    if (!bound || this.nodeId === undefined) throw new Error('the SFTP server is not listening');
    return { id: this.nodeId, address: bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}` };
  }

  /** The bound address once listening (port 0 becomes the real port). */
  address(): AddressInfo | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr : undefined;
  }

  async start(): Promise<void> {
    const keysDir = hostKeysDir(this.loaded, this.paths);
    const generated = await ensureHostKeys(keysDir);
    const hostKeys = loadHostKeys(keysDir);
    for (const path of generated) this.log.info({ path }, 'host key generated');
    for (const k of hostKeys) this.log.info({ type: k.type, bits: k.bits, fingerprint: k.fingerprint }, 'host key');

    const { algorithms, dropped } = serverAlgorithms(this.config.sftp.algorithms);
    if (dropped.length > 0) this.log.warn({ dropped }, 'configured algorithms ssh2 cannot serve were left out');

    const sftp = this.config.sftp;
    // The store's bans are read before the first connection: a ban outlives a restart.
    const bans = new SharedBans(this.banRepository, () => this.nodeId, this.log);
    await bans.start();
    this.bans = bans;
    const guard = new BruteForceGuard(sftp.bruteForce, Date.now, bans);
    const gate = new StartupGate({
      maxStartups: sftp.maxStartups, maxStartupsPerAddress: sftp.maxStartupsPerAddress,
      loginGraceSeconds: sftp.loginGraceSeconds, banSeconds: sftp.bruteForce.banSeconds,
    }, guard, this.log, this.events);
    const budget = descriptorBudget(openFileLimit(), sftp.limits);
    if (budget.clampedFrom !== undefined) {
      this.log.warn({ configured: budget.clampedFrom, handlesTotal: budget.handlesTotal, descriptorLimit: budget.descriptorLimit, headroom: budget.headroom },
        'sftp.limits.handlesTotal is more than the open-file limit leaves after the headroom: lowered (raise `ulimit -n` for more)');
    }
    const limits = new ResourceLimits({ ...sftp.limits, handlesTotal: budget.handlesTotal });
    const logins = new LiveLogins(this.accounts, this.log);
    logins.start(sftp.sessionRecheckSeconds);
    this.gate = gate;
    this.logins = logins;
    const deps = {
      config: this.config,
      paths: this.paths,
      accounts: this.accounts,
      authenticator: new Authenticator(this.accounts, this.config),
      guard,
      gate,
      logins,
      limits,
      hostKeyAlgorithms: algorithms.serverHostKey as string[],
      events: this.events,
      log: this.log,
    };
    const ssh = new Server({ hostKeys: hostKeys.map((k) => k.privateKey), algorithms, ident: 'fluxgate' }, (client, info) => {
      this.clients.add(client);
      client.once('close', () => this.clients.delete(client));
      handleConnection(client, info, deps);
    });
    ssh.on('error', (err: Error) => this.log.error({ err }, 'server error'));
    // Connections are counted and limited from TCP accept, before the client has sent anything
    // (ssh2 only reports a connection once the client's identification line has arrived); those
    // of trusted proxies once their PROXY header has told the real client address.
    const proxies = new ProxyProtocol(this.config.cluster.trustedProxies, this.log);
    const server = createServer((socket) => {
      proxies.accept(socket, (admitted) => {
        if (gate.admit(admitted)) ssh.injectSocket(admitted);
      });
    });
    server.on('error', (err: Error) => this.log.error({ err }, 'server error'));
    this.server = server;

    const { host, port } = this.config.sftp;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = this.address()!;
    const { cluster } = this.config;
    this.nodeId = nodeId(this.config, bound.port);
    this.log.info({
      host: bound.address, port: bound.port, maxStartups: sftp.maxStartups, maxStartupsPerAddress: sftp.maxStartupsPerAddress,
      loginGraceSeconds: sftp.loginGraceSeconds, limits: { ...sftp.limits, handlesTotal: Number.isFinite(budget.handlesTotal) ? budget.handlesTotal : null },
      descriptorLimit: budget.descriptorLimit ?? null, descriptorHeadroom: budget.headroom,
      nodeId: this.nodeId, trustedProxies: cluster.trustedProxies,
    }, 'listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.logins?.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.gate?.destroyAll();
    for (const client of this.clients) client.end();
    // Clients that do not answer the disconnect must not hold the shutdown.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.bans?.stop();
    this.log.info('stopped');
  }
}
