/**
 * The directory writer's thread (directory-writer.ts): a connection of its own to the server's
 * SQLite file, on which it inserts the batches it is sent, one after another.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database';
import { SqliteDirectoryRows } from './directory-rows';
import { toWriterError, type WriterData, type WriterReply, type WriterRequest } from './directory-writer';

const data = workerData as WriterData;
// The server migrated the file before it started this thread.
const db = openDatabase(data.database, []);
const noted = data.writes && new Int32Array(data.writes);
// With the server's write count, its WAL checkpointer checkpoints what this thread writes; a commit here never does.
if (noted) db.pragma('wal_autocheckpoint = 0');
const rows = new SqliteDirectoryRows(db, { afterWrite: noted && (() => { Atomics.add(noted, 0, 1); }) });
const post = (reply: WriterReply): void => parentPort!.postMessage(reply);

parentPort!.on('message', (m: WriterRequest) => {
  if (m.t === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    post({ id: m.id, ok: rows.writeCreates(m.shapes, m.chunks, m.count) });
  } catch (err) {
    post({ id: m.id, error: toWriterError(err) });
  }
});
