/** The cluster's nodes (migration 015), engine-neutral. Times are epoch milliseconds. */

/** A node as `fluxgate nodes` shows it. */
export interface NodeRow {
  id: string;
  address: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
  filesInProgress: number;
}

export interface NodeRepository {
  /** Records a node starting (this process: its host and pid); a node id seen before (a restart) starts afresh. */
  started(node: { id: string; address: string; startedAt: number }): Promise<void>;
  beat(id: string, at: number, filesInProgress: number): Promise<void>;
  stopped(id: string, at: number): Promise<void>;
  /** The jobs of `topic` this process holds leased (the queue records the holder's pid and host). */
  leasedHere(topic: string, now: number): Promise<number>;
  list(): Promise<NodeRow[]>;
}
