import { hostname } from 'node:os';
import type { FluxgateConfig } from './schema';

/** This node's id: `cluster.nodeId`, else the host name and the SFTP port it listens on. */
export function nodeId(config: Pick<FluxgateConfig, 'cluster'>, port: number): string {
  return config.cluster.nodeId ?? `${hostname()}:${port}`;
}

/**
 * The node id as known before the SFTP server listens: undefined when it is the default and the
 * port is 0 (any free port), since the id then names the port bound, which no other process holds.
 */
export function nodeIdBeforeListening(config: Pick<FluxgateConfig, 'cluster' | 'sftp'>): string | undefined {
  return config.cluster.nodeId ?? (config.sftp.port === 0 ? undefined : nodeId(config, config.sftp.port));
}
