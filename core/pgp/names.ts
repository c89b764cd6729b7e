/** File-name conventions of the PGP part, shared by the decrypt step, the signer and the publisher. */

/** Suffixes that mark an upload as a PGP message (binary or armored: the content decides). */
export const ENCRYPTED_SUFFIXES: readonly string[] = ['.pgp', '.gpg'];

/** Detached signatures are written next to the signed file, as `gpg --detach-sign` names them. */
export const SIGNATURE_SUFFIX = '.sig';

/** The armored public key published in every exchange account's `out/sig/`. */
export const PUBLIC_KEY_FILE_NAME = 'fluxgate-public-key.asc';

/** Account-relative directory the public key is published to. */
export const PUBLIC_KEY_DIR = 'out/sig';

export function isEncryptedName(name: string): boolean {
  const lower = name.toLowerCase();
  return ENCRYPTED_SUFFIXES.some((suffix) => lower.endsWith(suffix) && lower.length > suffix.length);
}

/** `x.csv.pgp` → `x.csv`, `x.csv.gpg.pgp` → `x.csv` (every suffix); a name without one is returned unchanged. */
export function stripEncryptedSuffix(name: string): string {
  let plain = name;
  while (isEncryptedName(plain)) plain = plain.slice(0, -4);
  return plain;
}

export function signatureNameOf(name: string): string {
  return `${name}${SIGNATURE_SUFFIX}`;
}
