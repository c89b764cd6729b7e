import type { Connection } from 'ssh2';

/** RFC 4254's SSH_OPEN_ADMINISTRATIVELY_PROHIBITED. */
const ADMINISTRATIVELY_PROHIBITED = 1;

interface Ssh2ProtocolInternals {
  _handlers?: Record<string, unknown>;
  channelOpenFail?: (remoteChannel: number, reason: number, description: string) => void;
}

/**
 * ssh2 refuses a channel with an empty description; the client then prints only
 * "administratively prohibited". This refuses session channels with `refusal()`'s text when it
 * gives one (OpenSSH's `sftp` prints it: `channel 0: open failed: administratively prohibited:
 * too many sessions …`), before ssh2 allocates anything, and hands every other channel open to
 * ssh2. Uses ssh2's internals (checked): returns false when they are not as expected, and the
 * caller then refuses through ssh2's `reject()`, without the text.
 */
export function refuseSessionsWith(client: Connection, refusal: () => string | undefined, onRefused: (reason: string) => void): boolean {
  const protocol = (client as unknown as { _protocol?: Ssh2ProtocolInternals })._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.CHANNEL_OPEN;
  if (!protocol || !handlers || typeof original !== 'function' || typeof protocol.channelOpenFail !== 'function') return false;
  handlers.CHANNEL_OPEN = (packet: unknown, info: { type?: string; sender?: number }): void => {
    const loggedIn = (client as unknown as { authenticated?: boolean }).authenticated === true;
    const reason = loggedIn && info?.type === 'session' && typeof info.sender === 'number' ? refusal() : undefined;
    if (reason !== undefined) {
      protocol.channelOpenFail!(info.sender!, ADMINISTRATIVELY_PROHIBITED, reason);
      onRefused(reason);
      return;
    }
    (original as (packet: unknown, info: unknown) => void)(packet, info);
  };
  return true;
}
