/**
 * The journal's checkpoint verified in the browser (C2SP signed-note, Ed25519 through WebCrypto):
 * the verifier key's id must be its name and key's, and a signature line by that key must verify
 * over the note's text. What the console shows as "verified" is this, not the server's word.
 */

const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Why a checkpoint does not verify, as a stable code the page translates. */
export type NoteProblem = 'bad_key' | 'unsigned' | 'bad_signature' | 'malformed';

export async function verifyCheckpoint(
  note: string,
  verifierKey: string,
): Promise<{ ok: true; name: string } | { ok: false; problem: NoteProblem }> {
  const key = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(verifierKey.trim());
  if (!key) return { ok: false, problem: 'bad_key' };
  const [, name, idHex, keyB64] = key as unknown as [string, string, string, string];
  const keyBytes = b64(keyB64);
  if (keyBytes.length !== 33 || keyBytes[0] !== 0x01) return { ok: false, problem: 'bad_key' };
  const raw = keyBytes.slice(1);
  // Key id: the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
  const named = new Uint8Array([...new TextEncoder().encode(name), 0x0a, 0x01, ...raw]);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', named));
  const keyId = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  if (keyId !== idHex) return { ok: false, problem: 'bad_key' };

  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { ok: false, problem: 'malformed' };
  const text = new TextEncoder().encode(note.slice(0, split + 1));
  const publicKey = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) return { ok: false, problem: 'malformed' };
    const blob = b64(m[2]!);
    const lineKeyId = Array.from(blob.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    if (m[1] !== name || lineKeyId !== idHex) continue;
    const good = await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, blob.slice(4), text);
    return good ? { ok: true, name } : { ok: false, problem: 'bad_signature' };
  }
  return { ok: false, problem: 'unsigned' };
}
