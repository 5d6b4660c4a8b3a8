import { HASH_SIZE } from './merkle.js';
import { NoteError, openNote, signNote, type NoteSigner, type NoteVerifier } from './signed-note.js';

/** A C2SP tlog-checkpoint body: origin, tree size, root hash, then optional extension lines. */
export interface Checkpoint {
  readonly origin: string;
  /** Exact even beyond 2^53 (a parsed checkpoint may come from any log). */
  readonly size: bigint;
  readonly rootHash: Buffer;
  readonly extensions: readonly string[];
}

export function formatCheckpoint(c: Pick<Checkpoint, 'origin' | 'size' | 'rootHash'>): string {
  return `${c.origin}\n${c.size.toString()}\n${c.rootHash.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new NoteError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('checkpoint needs origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new NoteError('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeLine))
    throw new NoteError('checkpoint size is not a decimal number');
  const size = BigInt(sizeLine);
  if (size > 0xffffffffffffffffn) throw new NoteError('checkpoint size exceeds 64 bits');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(rootLine)) throw new NoteError('checkpoint root is not a base64 hash');
  const rootHash = Buffer.from(rootLine, 'base64');
  if (rootHash.length !== HASH_SIZE) throw new NoteError('checkpoint root is not 32 bytes');
  if (extensions.some((l) => l.length === 0))
    throw new NoteError('checkpoint extension lines must be non-empty');
  return { origin, size, rootHash, extensions };
}

export function signCheckpoint(
  c: Pick<Checkpoint, 'origin' | 'size' | 'rootHash'>,
  signer: NoteSigner,
): string {
  return signNote(formatCheckpoint(c), signer);
}

/**
 * Opens a signed checkpoint with the given verifier and checks its origin: a checkpoint signed by
 * another key, or for another log, is refused.
 */
export function verifyCheckpoint(note: string, verifier: NoteVerifier, origin: string): Checkpoint {
  const { text } = openNote(note, [verifier]);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== origin) {
    throw new NoteError(`checkpoint is for origin ${checkpoint.origin.slice(0, 100)}, not ${origin}`);
  }
  return checkpoint;
}
