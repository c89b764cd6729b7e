import { INFLIGHT_WRITE_BYTES } from './context';
import { v8Gc } from './v8-gc';

/**
 * A scavenge (V8's young-generation GC) every SCAVENGE_EVERY_BYTES of WRITE data received per
 * open upload.
 *
 * Each socket read is a new 64 KiB buffer, malloc'd by Node in glibc's main arena, and freed
 * only once V8 has collected the Buffer object that holds it. During an upload the server
 * allocates little JavaScript, so V8 scavenges only every ~25 MB received, and the buffers of
 * all those bytes wait in the arena; any buffer still holding a WRITE in flight at two
 * scavenges is promoted and waits for a mark-compact instead. glibc keeps the arena's pages
 * resident once touched (docs/sftp.md, "Memory at rest"), so the peak of that waiting set is
 * what the uploads add to the server's RSS: ~85 MiB over a 125 MiB idle server in bench:sftp.
 *
 * A scavenge every twice the session's in-flight bound (INFLIGHT_WRITE_BYTES) frees the
 * buffers of what was written since the one before, and a buffer in flight is seen by at most
 * one scavenge, so it dies young. With several uploads open their data interleaves and each
 * buffer lives proportionally longer: the interval grows with their number. One scavenge of
 * this small young generation takes well under a millisecond; bench:sftp showed no CPU
 * difference per upload, ~60 scavenges per 512 MiB instead of ~18 plus 2-4 mark-compacts,
 * and a peak ~50 MiB lower (docs/benchmarks.md, 2026-12-07 sftp-peak).
 */
export const SCAVENGE_EVERY_BYTES = 2 * INFLIGHT_WRITE_BYTES;

let openUploads = 0;
let receivedSinceScavenge = 0;

/** Counts an open upload until the returned function is called (idempotent). */
export function trackUploadForScavenges(): () => void {
  openUploads++;
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    openUploads--;
  };
}

/** WRITE data received: scavenges once enough has arrived since the last forced one. */
export function noteUploadBytes(bytes: number): void {
  receivedSinceScavenge += bytes;
  if (receivedSinceScavenge < SCAVENGE_EVERY_BYTES * Math.max(1, openUploads)) return;
  receivedSinceScavenge = 0;
  v8Gc()({ type: 'minor' });
}
