import { INFLIGHT_WRITE_BYTES } from './context';
import { v8Gc } from './v8-gc';

/**
 * A scavenge (V8's young-generation GC) every SCAVENGE_EVERY_BYTES of WRITE data received.
 *
 * Each socket read is a new 64 KiB buffer, malloc'd by Node in glibc's main arena, and freed
 * only once V8 has collected the Buffer object that holds it. During an upload the server
 * allocates little JavaScript, so V8 scavenges only every ~25 MB received, and the buffers of
 * all those bytes wait in the arena; any buffer still holding a WRITE in flight at two
 * scavenges is promoted and waits for a mark-compact instead. glibc keeps the arena's pages
 * resident once touched (docs/sftp.md, "Memory at rest"), so the peak of that waiting set is
 * what the uploads add to the server's RSS: ~85 MiB over a 125 MiB idle server in bench:sftp.
 *
 * A scavenge every twice a session's in-flight bound (INFLIGHT_WRITE_BYTES) frees the buffers
 * of what was written since the one before, and a buffer in flight is seen by at most one
 * scavenge, so it dies young. One scavenge of this small young generation takes well under a
 * millisecond; bench:sftp showed no more CPU per upload, ~60 scavenges per 512 MiB instead of
 * ~18 plus 2-4 mark-compacts, and a peak ~55 MiB lower. The interval is the same whatever the
 * number of uploads: with 4 at once (4 x 128 MiB), every 8 MiB received in all gave lower
 * peaks than every 8 MiB per open upload (docs/benchmarks.md, 2026-12-07 sftp-peak).
 */
export const SCAVENGE_EVERY_BYTES = 2 * INFLIGHT_WRITE_BYTES;

let receivedSinceScavenge = 0;

/** WRITE data received: scavenges once SCAVENGE_EVERY_BYTES have arrived since the last forced one. */
export function noteUploadBytes(bytes: number): void {
  receivedSinceScavenge += bytes;
  if (receivedSinceScavenge < SCAVENGE_EVERY_BYTES) return;
  receivedSinceScavenge = 0;
  v8Gc()({ type: 'minor' });
}
