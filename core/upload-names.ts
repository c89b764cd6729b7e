/**
 * The naming contract between whatever writes into an account tree (the SFTP server, or a
 * co-located OpenSSH) and whatever reads it (intake, retention): names that are not yet files.
 */
export const FILEPART_SUFFIX = '.filepart';
/** Direct uploads (no .filepart) are written under this hidden prefix until the client closes them. */
export const TEMP_UPLOAD_PREFIX = '.fg-upload-';

export function isPartialUpload(name: string): boolean {
  return name.endsWith(FILEPART_SUFFIX) || name.startsWith(TEMP_UPLOAD_PREFIX);
}

export function tempUploadName(finalName: string, nonce: string): string {
  return `${TEMP_UPLOAD_PREFIX}${nonce}-${finalName}`;
}

/**
 * Hidden names (a leading dot, which includes the temporary upload names): intake never takes
 * them, nor anything under a hidden directory (core/intake: acceptedPath, and through
 * isNeverTaken the watcher and the scan).
 * The SFTP server refuses them as upload and rename targets where files are processed, so that
 * nothing is accepted there that would never be received.
 */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

/** What intake never takes: hidden names and uploads still being written. */
export function isNeverTaken(name: string): boolean {
  return isHiddenName(name) || isPartialUpload(name);
}
