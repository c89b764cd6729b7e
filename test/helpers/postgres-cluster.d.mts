/** The types of postgres-cluster.mjs (plain JavaScript: test/run.mjs runs without tsx). */
export interface PostgresCluster {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  dir: string;
  /** Stops the cluster and removes its directory (synchronous: usable in an 'exit' handler). */
  stop(): void;
}
export function postgresBin(): string | undefined;
/** `durable`: keep fsync and synchronous commits (benchmarks); tests run without. */
export function startPostgresCluster(options?: { durable?: boolean }): Promise<PostgresCluster>;
