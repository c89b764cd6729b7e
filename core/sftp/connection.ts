import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { AuthContext, ClientInfo, Connection, NegotiatedAlgorithms } from 'ssh2';
import { canonicalAddress } from '../accounts/allowlist';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import type { Account, AccountRepository } from '../store/ports/accounts';
import { restrictHostKeyOffer } from './algorithms';
import type { Authenticator } from './authenticator';
import { recordFailure, type BruteForceGuard } from './brute-force';
import { ConnectionLimits } from './connection-limits';
import type { ResourceLimits } from './limits';
import { RecheckedJail, type LiveLogin, type LiveLogins, type LoginGrant } from './live-logins';
import { policyFor } from './permissions';
import { proxyOf } from './proxy-protocol';
import { WriteGate } from './session/context';
import { HandleTable } from './session/handles';
import { runSftpSession } from './session/sftp-session';
import type { StartupGate } from './startups';

export interface ConnectionDeps {
  config: FluxgateConfig;
  paths: DataPaths;
  accounts: AccountRepository;
  authenticator: Authenticator;
  guard: BruteForceGuard;
  /** Connections not logged in yet: limits and grace time (see startups.ts). */
  gate: StartupGate;
  /** Logged-in connections, re-checked against the database (see live-logins.ts). */
  logins: LiveLogins;
  /** Connections, sessions and handles per account and in all (`sftp.limits`, see limits.ts). */
  limits: ResourceLimits;
  /** The host key algorithms to offer, exactly (ssh2 would add `ssh-rsa`). */
  hostKeyAlgorithms: readonly string[];
  events: UploadEvents;
  log: Logger;
}

let offerWarned = false;

/** One SSH connection: ban check, authentication, then at most SFTP sessions (no shell, no forwarding). */
export function handleConnection(client: Connection, info: ClientInfo, deps: ConnectionDeps): void {
  // Through a trusted proxy, the real client's address (proxy-protocol.ts put it on the socket).
  const address = canonicalAddress(info.ip);
  const connectionId = randomBytes(4).toString('hex');
  const socket = (client as unknown as { _sock?: Socket })._sock;
  const proxy = proxyOf(socket);
  let log = deps.log.child({ conn: connectionId, address, ...(proxy === undefined ? {} : { proxy }) });
  // Now, before ssh2 sends its KEXINIT: it would offer ssh-rsa (SHA-1) for the RSA host key.
  if (!restrictHostKeyOffer(client, deps.hostKeyAlgorithms) && !offerWarned) {
    offerWarned = true;
    log.warn('cannot restrict the host key algorithms ssh2 offers (its internals changed): it may offer ssh-rsa (SHA-1)');
  }

  acceptRepeatedUserauthService(client);

  // ECONNRESET and protocol errors arrive here; unhandled they would crash the process.
  client.on('error', (err: Error) => log.debug({ err: err.message }, 'connection error'));
  // Without TCP_NODELAY uploads run several times slower (Nagle + delayed ACK on small replies).
  (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  if (socket) coalesceReplies(socket);
  if (deps.config.sftp.idleTimeoutSeconds > 0 && socket) {
    socket.setTimeout(deps.config.sftp.idleTimeoutSeconds * 1000, () => {
      log.info({ idleSeconds: deps.config.sftp.idleTimeoutSeconds }, 'idle timeout, disconnecting');
      client.end();
    });
  }

  const bannedUntil = deps.guard.bannedUntil(address);
  if (bannedUntil) {
    log.warn({ until: new Date(bannedUntil).toISOString() }, 'connection refused: address banned after repeated failures');
    client.end();
    return;
  }

  // The connection's place among its account's connections, and its session channels (sftp.limits).
  const held = new ConnectionLimits(client, deps.limits, () => log);
  let negotiated: NegotiatedAlgorithms | undefined;
  let account: Account | undefined;
  let grant: LoginGrant | undefined;
  let lastUser = '';
  let attempted = false;
  let failed = false;
  client.on('handshake', (n: NegotiatedAlgorithms) => { negotiated = n; });

  const fail = (user = lastUser): void => {
    failed = true;
    if (recordFailure(deps.guard, deps.config.sftp.bruteForce.banSeconds, log, deps.events, address, user)) client.end();
  };

  // Like OpenSSH's LoginGraceTime: a connection that has not logged in by then is closed, and
  // counts as one failure (it held a slot all that time). The gate counts it from TCP accept.
  const graceSeconds = deps.config.sftp.loginGraceSeconds;
  const onGraceExpired = (): void => {
    log.info({ graceSeconds }, 'no login in time, disconnecting');
    if (!failed) fail();
    client.end();
  };
  const startup = deps.gate.of(socket);
  let grace: NodeJS.Timeout | undefined;
  if (startup) startup.onGraceExpired(onGraceExpired);
  else (grace = setTimeout(onGraceExpired, graceSeconds * 1000)).unref();

  client.on('authentication', (ctx: AuthContext) => {
    if (deps.guard.bannedUntil(address)) {
      // Banned after this connection was accepted (here, or by another node): said, not silent.
      log.info({ username: ctx.username, method: ctx.method }, 'login refused: address banned');
      ctx.reject();
      client.end();
      return;
    }
    lastUser = ctx.username;
    if (startup) startup.username = ctx.username;
    if (ctx.method !== 'none') attempted = true;
    // An attempt that may count as a failure waits while those being decided (other connections'
    // passwords) could still reach the ban threshold: at most maxFailures guesses are answered.
    const mayFail = ctx.method === 'password' || (ctx.method === 'publickey' && ctx.signature !== undefined);
    const admitted = mayFail ? deps.guard.admit(address) : Promise.resolve(() => {});
    admitted.then(async (done) => {
      if (!done) {
        log.info({ username: ctx.username, method: ctx.method }, 'login refused: address banned while the attempt waited');
        ctx.reject();
        client.end();
        return;
      }
      try {
        if (socket?.destroyed) return;
        answer(await deps.authenticator.decide(ctx, address));
      } finally {
        done();
      }
    }).catch((err: unknown) => {
      // Also reached when the client left while we decided: answering then throws, harmlessly.
      log.warn({ err }, 'authentication error');
      try { ctx.reject(); } catch { /* connection gone */ }
    });

    function answer(decision: Awaited<ReturnType<Authenticator['decide']>>): void {
      if (decision.accept === 'query') return ctx.accept();
      if (decision.accept === true) {
        account = decision.account;
        grant = {
          accountId: account.id, accountCreatedAt: account.createdAt, address, method: decision.method,
          fingerprint: decision.fingerprint, keyId: decision.keyId,
          passwordHash: decision.method === 'password' ? account.passwordHash : undefined,
        };
        startup?.authenticated();
        clearTimeout(grace);
        // Clears what this login disproves (this user's failures from this address), nothing more.
        deps.guard.succeed(address, ctx.username);
        // Not awaited: the login is accepted now; a failure to note it is logged, never fatal.
        deps.accounts.recordLogin(account.id).catch((err: unknown) => log.error({ err, accountId: decision.account.id }, 'could not record the login time'));
        deps.events.signal({ type: 'login', result: 'accepted' });
        log = log.child({ accountId: account.id });
        log.info({
          event: 'login', port: info.port, method: decision.method,
          fingerprint: decision.fingerprint, keyType: decision.keyType, bits: decision.bits,
          kex: negotiated?.kex, hostKey: negotiated?.serverHostKey, cipher: negotiated?.cs.cipher,
          mac: negotiated?.cs.mac || '(aead)', compress: negotiated?.cs.compress, client: info.header.versions.software,
        }, 'login');
        if (decision.method === 'password') log.warn({ accountId: account.id }, 'password authentication is deprecated: give this account a key');
        held.loggedIn(account.id, graceSeconds);
        return ctx.accept();
      }
      if (decision.accept === false && ctx.method !== 'none') {
        const line = { event: 'login refused', username: ctx.username, method: ctx.method, reason: decision.reason, fingerprint: decision.fingerprint };
        // Keys offered one by one are routine; a failed signed attempt or password is not.
        if (decision.countsAsFailure) log.warn(line, 'login refused');
        else log.info(line, 'login refused');
        if (decision.countsAsFailure) {
          deps.events.signal({ type: 'login', result: 'refused' });
          fail(ctx.username);
        }
      }
      ctx.reject(decision.methods);
    }
  });

  let live: LiveLogin | undefined;
  let unregister = (): void => {};
  client.on('ready', () => {
    let ended = false;
    live = {
      grant: grant!,
      end: (reason: string) => {
        if (ended) return;
        ended = true;
        log.warn({ reason }, 'login revoked, disconnecting');
        client.end();
        // A client that does not answer the disconnect must not keep the socket.
        setTimeout(() => socket?.destroy(), 5000).unref();
      },
    };
    unregister = deps.logins.add(live);
    deps.events.signal({ type: 'session', open: true });
    const unregisterLogin = unregister;
    unregister = () => { unregisterLogin(); deps.events.signal({ type: 'session', open: false }); unregister = () => {}; };
    client.on('session', (acceptSession, rejectSession) => {
      // Over a limit, normally refused before ssh2 offers it, with the reason (connection-limits.ts).
      const counted = held.openSession();
      if (!counted) {
        rejectSession();
        return;
      }
      const session = acceptSession();
      session.once('close', () => counted.release());
      let sftpStarted = false;
      session.on('sftp', (acceptSftp) => {
        if (sftpStarted) return;
        sftpStarted = true;
        startSftp(acceptSftp(), account!, live!, deps, log, socket);
      });
      // No shell, exec, pty, env or forwarding: this is an SFTP-only server.
      for (const req of ['exec', 'shell', 'pty', 'subsystem', 'x11', 'env', 'auth-agent'] as const) {
        session.on(req as 'exec', (_accept: unknown, reject?: () => void) => {
          log.warn({ request: req }, 'session request refused: SFTP only');
          reject?.();
        });
      }
    });
    client.on('tcpip', (_accept, reject) => reject());
    client.on('request', (_accept, reject) => reject?.());
  });

  client.on('close', () => {
    clearTimeout(grace);
    unregister();
    held.releaseAll();
    // A connection that tried and never logged in counts once, even if only keys were offered.
    if (!account && attempted && !failed) fail();
    log.debug({ accountId: account?.id }, 'connection closed');
  });
}

/**
 * paramiko sends a SERVICE_REQUEST for `ssh-userauth` before each of its authentication
 * attempts, and ssh2 disconnects on the second one: a paramiko client offering a wrong key
 * first (agent keys, `pkey` then `key_filename`) could then never log in on that connection,
 * and each try cost it a counted failure. Like OpenSSH's sshd, the request is accepted again
 * until the client has logged in. Returns false when ssh2's internals are not as expected.
 */
function acceptRepeatedUserauthService(client: Connection): boolean {
  const protocol = (client as unknown as { _protocol?: { _handlers?: Record<string, unknown>; serviceAccept?: (name: string) => void } })._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.SERVICE_REQUEST;
  if (!protocol || !handlers || typeof original !== 'function' || typeof protocol.serviceAccept !== 'function') return false;
  let accepted = false;
  handlers.SERVICE_REQUEST = (packet: unknown, service: string): void => {
    if (accepted && service === 'ssh-userauth' && !(client as unknown as { authenticated?: boolean }).authenticated) {
      protocol.serviceAccept!(service);
      return;
    }
    // ssh2's own handler accepts the first request, or disconnects.
    accepted = service === 'ssh-userauth';
    (original as (packet: unknown, service: string) => void)(packet, service);
  };
  return true;
}

/**
 * Replies produced while a batch of incoming data is handled leave in one socket write (one
 * system call, one TCP segment) at the end of the event-loop turn instead of one write each:
 * with TCP_NODELAY every STATUS reply to a WRITE was otherwise a separate segment.
 */
function coalesceReplies(socket: Socket): void {
  let corked = false;
  socket.prependListener('data', () => {
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(() => {
      corked = false;
      socket.uncork();
    });
  });
}

function startSftp(sftp: import('ssh2').SFTPWrapper, account: Account, live: LiveLogin, deps: ConnectionDeps, log: Logger, socket?: Socket): void {
  const audit = log.child({ session: randomBytes(3).toString('hex') });
  const handles = new HandleTable(deps.limits.settings.handlesPerSession, undefined, { accountId: account.id, limits: deps.limits });
  const ctx = {
    sftp,
    accountId: account.id,
    client: { address: live.grant.address, fingerprint: live.grant.fingerprint ?? null },
    recheck: () => deps.logins.check(live),
    // Every path a request names is refused once the login was found revoked: a removed account's
    // session must never reach a later account with the same id, whose tree is at the same place.
    jail: new RecheckedJail(deps.paths.accountRoot(account.id), () => deps.logins.assertNotRevoked(live)),
    policy: policyFor(account.profile),
    handles,
    // Pausing also flushes every upload's gathered writes: they are what will resume the socket.
    writes: new WriteGate(deps.config.sftp.maxInflightWrites, () => { socket?.pause(); handles.flushWriters(); }, () => socket?.resume()),
    audit,
    sftpConfig: deps.config.sftp,
    events: deps.events,
    recentUploads: new Map(),
    limitsReached: new Set<string>(),
  };
  const { writeFraming } = runSftpSession(sftp, ctx, () => audit.info({ event: 'session end' }, 'session end'));
  audit.debug({ profile: account.profile, writeFraming }, 'sftp session started');
}
