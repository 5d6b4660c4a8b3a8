import crypto, { type KeyObject } from 'node:crypto';

/**
 * C2SP signed-note with Ed25519 (signature type 0x01): the note text, a blank line, then one line
 * per signature, `— <name> base64(keyId(4) ‖ signature(64))`.
 */

const ED25519 = 0x01;
const EM_DASH = '\u2014';
const MAX_NOTE_BYTES = 1 << 20;
const MAX_SIGNATURES = 32;
// PKCS#8 / SPKI wrappers around a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class NoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

export interface NoteSigner extends NoteVerifier {
  readonly privateKey: KeyObject;
}

/** True when `text` holds an ASCII control character other than the allowed newline. */
function hasControl(text: string, newlineAllowed: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(newlineAllowed && c === 0x0a)) || c === 0x7f) return true;
  }
  return false;
}

function validName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name) && !hasControl(name, false);
}

/** Key id: the first four bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). */
export function noteKeyId(name: string, rawPublicKey: Buffer): number {
  const digest = crypto.hash(
    'sha256',
    Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([ED25519]), rawPublicKey]),
    'buffer',
  );
  return digest.readUInt32BE(0);
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new NoteError('an Ed25519 public key is 32 bytes');
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function privateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new NoteError('an Ed25519 private key seed is 32 bytes');
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function signerFromPrivateKey(name: string, privateKey: KeyObject): NoteSigner {
  if (!validName(name)) throw new NoteError('key names are non-empty, without spaces or +');
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new NoteError('the journal key must be Ed25519');
  const publicKey = crypto.createPublicKey(privateKey);
  return { name, keyId: noteKeyId(name, rawPublicKey(publicKey)), publicKey, privateKey };
}

/** `name+hex(keyId)+base64(0x01 ‖ public key)`, the verifier key format of the signed-note spec. */
export function formatVerifierKey(verifier: NoteVerifier): string {
  const id = verifier.keyId.toString(16).padStart(8, '0');
  const key = Buffer.concat([Buffer.from([ED25519]), rawPublicKey(verifier.publicKey)]).toString('base64');
  return `${verifier.name}+${id}+${key}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(vkey.trim());
  if (!m || !validName(m[1]!)) throw new NoteError('verifier key is not name+id+key');
  const bytes = Buffer.from(m[3]!, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw new NoteError('verifier key is not an Ed25519 key');
  const raw = bytes.subarray(1);
  const keyId = Number.parseInt(m[2]!, 16);
  if (noteKeyId(m[1]!, raw) !== keyId) throw new NoteError('verifier key id does not match its name and key');
  return { name: m[1]!, keyId, publicKey: publicKeyFromRaw(raw) };
}

/** Signs `text` (which must end in a newline) and returns the whole note. */
export function signNote(text: string, signer: NoteSigner): string {
  checkText(text);
  const signature = crypto.sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  const blob = Buffer.alloc(4 + signature.length);
  blob.writeUInt32BE(signer.keyId, 0);
  signature.copy(blob, 4);
  return `${text}\n${EM_DASH} ${signer.name} ${blob.toString('base64')}\n`;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  if (hasControl(text, true)) throw new NoteError('note text holds a control character');
}

export interface OpenedNote {
  readonly text: string;
  /** Names of the known keys whose signatures verified. */
  readonly verifiedBy: readonly string[];
}

/**
 * Opens a signed note: signatures by unknown keys are ignored, a signature by a known key that does
 * not verify rejects the whole note, and at least one known signature must verify.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) throw new NoteError('note is too large');
  if (hasControl(note, true)) throw new NoteError('note holds a control character');
  if (!note.endsWith('\n')) throw new NoteError('note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note has no signature block');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('note has too many signatures');
  const verifiedBy: string[] = [];
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) throw new NoteError('malformed signature line');
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length < 5) throw new NoteError('signature is too short');
    const keyId = blob.readUInt32BE(0);
    const verifier = verifiers.find((v) => v.name === m[1] && v.keyId === keyId);
    if (!verifier) continue;
    if (!crypto.verify(null, Buffer.from(text, 'utf8'), verifier.publicKey, blob.subarray(4))) {
      throw new NoteError(`signature by ${verifier.name} does not verify`);
    }
    verifiedBy.push(verifier.name);
  }
  if (verifiedBy.length === 0) throw new NoteError('no signature by a known key');
  return { text, verifiedBy };
}
