import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { FluxgateError } from '../errors';
import { isServerTemporary, SERVER_TEMPORARY_PREFIXES } from '../upload-names';

/** A client path resolved inside the account's jail. */
export interface JailedPath {
  /** Normalized account-relative path as the client sees it: `/`, `/in/sal/x.csv`. */
  virtual: string;
  /** Components under the root: [] for `/`, ['in', 'sal', 'x.csv']. */
  segments: string[];
  /** Absolute path on disk. */
  real: string;
  /** Last component ('' for the root). */
  name: string;
}

export const MAX_PATH_BYTES = 1024;
/** Leaves room for the hidden temporary-upload prefix within the 255-byte file-system limit. */
export const MAX_NAME_BYTES = 200;

/**
 * The chroot: maps client paths onto `<data>/sftp/<account>/` and refuses everything that could
 * leave it or confuse it: names that are not UTF-8, NUL and control characters, over-long
 * names, `..` above the root, the server's hidden temporary names (uploads and writes in
 * progress: isServerTemporary), and (on disk) symbolic links anywhere on the way.
 * `//` and `.` collapse; relative paths are relative to `/`, the only working directory.
 */
export class PathJail {
  constructor(readonly root: string) {}

  resolve(input: string): JailedPath {
    if (typeof input !== 'string') throw new FluxgateError('FG_PATH_INVALID', 'the path is missing');
    if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw new FluxgateError('FG_PATH_INVALID', `the path is longer than ${MAX_PATH_BYTES} bytes`);
    // ssh2 decodes names as UTF-8, invalid bytes becoming U+FFFD: `bad\xff` and `bad\xfe` would be one name.
    if (input.includes('\uFFFD')) throw new FluxgateError('FG_PATH_INVALID', 'the path is not valid UTF-8 (or contains U+FFFD): use UTF-8 file names');
    // eslint-disable-next-line no-control-regex -- control characters are what this pattern looks for
    if (/[\u0000-\u001f\u007f]/.test(input)) throw new FluxgateError('FG_PATH_INVALID', 'the path contains NUL or control characters');
    const segments: string[] = [];
    for (const part of input.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (segments.length === 0) throw new FluxgateError('FG_PATH_ESCAPE', 'the path leaves the account root');
        segments.pop();
        continue;
      }
      if (Buffer.byteLength(part) > MAX_NAME_BYTES) throw new FluxgateError('FG_PATH_INVALID', `a name is longer than ${MAX_NAME_BYTES} bytes`);
      if (isServerTemporary(part)) throw new FluxgateError('FG_PATH_INVALID', `names starting with ${SERVER_TEMPORARY_PREFIXES.join(', ')} are reserved for the server's temporary files`);
      segments.push(part);
    }
    return this.fromSegments(segments);
  }

  fromSegments(segments: string[]): JailedPath {
    return {
      virtual: posix.join('/', ...segments),
      segments,
      real: join(this.root, ...segments),
      name: segments.at(-1) ?? '',
    };
  }

  parent(path: JailedPath): JailedPath {
    return this.fromSegments(path.segments.slice(0, -1));
  }

  child(dir: JailedPath, name: string): JailedPath {
    return this.fromSegments([...dir.segments, name]);
  }

  /**
   * Refuses symbolic links on the way to the path (and the path itself when `includeLeaf`).
   * Components that do not exist end the walk: nothing below them can be a link.
   */
  async assertNoSymlinks(path: JailedPath, includeLeaf = true): Promise<void> {
    const upTo = includeLeaf ? path.segments.length : path.segments.length - 1;
    let current = this.root;
    for (let i = 0; i < upTo; i++) {
      current = join(current, path.segments[i]);
      const st = await lstat(current).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
        throw err;
      });
      if (!st) return;
      if (st.isSymbolicLink()) throw new FluxgateError('FG_PATH_INVALID', 'symbolic links are not followed', { path: path.virtual });
    }
  }
}
