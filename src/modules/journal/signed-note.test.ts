import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { leafHash } from './merkle.js';
import {
  NoteError,
  formatVerifierKey,
  openNote,
  parseVerifierKey,
  signNote,
  signerFromPrivateKey,
} from './signed-note.js';

const examples = JSON.parse(
  fs.readFileSync(
    path.resolve(import.meta.dirname, '../../../../shared/vectors/signed-note/c2sp-examples.json'),
    'utf8',
  ),
) as {
  verifierKeyExample: { vkey: string; note: string; expectedText: string; expectVerified: boolean };
  checkpointParseExample: { note: string; origin: string; treeSize: number; rootHashBase64: string };
};

const newSigner = (name: string) =>
  signerFromPrivateKey(name, crypto.generateKeyPairSync('ed25519').privateKey);

describe('C2SP signed notes', () => {
  it('verify the C2SP example with its verifier key', () => {
    const ex = examples.verifierKeyExample;
    expect(ex.expectVerified).toBe(true);
    const verifier = parseVerifierKey(ex.vkey);
    expect(verifier.name).toBe('example.com/foo');
    expect(verifier.keyId).toBe(0x530d903a);
    const opened = openNote(ex.note, [verifier]);
    expect(opened.text).toBe(ex.expectedText);
    expect(opened.verifiedBy).toEqual(['example.com/foo']);
  });

  it('reject the C2SP example once one byte of its text changes', () => {
    const ex = examples.verifierKeyExample;
    const tampered = ex.note.replace('example message', 'example massage');
    expect(() => openNote(tampered, [parseVerifierKey(ex.vkey)])).toThrow(/does not verify/);
  });

  it('parse the C2SP checkpoint example, whose key is not published', () => {
    const ex = examples.checkpointParseExample;
    const text = ex.note.slice(0, ex.note.lastIndexOf('\n\n') + 1);
    const checkpoint = parseCheckpoint(text);
    expect(checkpoint.origin).toBe(ex.origin);
    expect(checkpoint.size).toBe(BigInt(ex.treeSize));
    expect(checkpoint.rootHash.toString('base64')).toBe(ex.rootHashBase64);
    // Its signature is by an unknown key: a verifier that knows only ours must refuse the note.
    expect(() => openNote(ex.note, [newSigner(ex.origin)])).toThrow(/no signature by a known key/);
  });

  it('round-trip our own verifier keys and checkpoints', () => {
    const signer = newSigner('vigie.test/journal');
    const vkey = formatVerifierKey(signer);
    expect(vkey).toMatch(/^vigie\.test\/journal\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const verifier = parseVerifierKey(vkey);
    const note = signCheckpoint({ origin: 'vigie.test/journal', size: 3n, rootHash: leafHash('x') }, signer);
    const checkpoint = verifyCheckpoint(note, verifier, 'vigie.test/journal');
    expect(checkpoint.size).toBe(3n);
  });

  it('refuse a checkpoint signed by another key or for another origin', () => {
    const ours = newSigner('vigie.test/journal');
    const other = newSigner('vigie.test/journal');
    const rootHash = leafHash('x');
    const byOther = signCheckpoint({ origin: 'vigie.test/journal', size: 1n, rootHash }, other);
    expect(() => verifyCheckpoint(byOther, ours, 'vigie.test/journal')).toThrow(NoteError);
    const otherOrigin = signNote(`elsewhere.test/log\n1\n${rootHash.toString('base64')}\n`, ours);
    expect(() => verifyCheckpoint(otherOrigin, ours, 'vigie.test/journal')).toThrow(/origin/);
  });

  it('refuse malformed notes and keys', () => {
    const signer = newSigner('vigie.test/journal');
    expect(() => signNote('no newline', signer)).toThrow(NoteError);
    expect(() => openNote('text\n', [signer])).toThrow(NoteError);
    expect(() => openNote('text\n\n— x !!!\n', [signer])).toThrow(NoteError);
    expect(() => openNote('te\x01xt\n\n— x AAAA\n', [signer])).toThrow(NoteError);
    expect(() => parseVerifierKey('name+00000000+AQ==')).toThrow(NoteError);
    expect(() => parseVerifierKey('')).toThrow(NoteError);
    const vkey = formatVerifierKey(signer);
    expect(() => parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(/key id/);
    expect(() => parseCheckpoint('o\n01\nAAAA\n')).toThrow(NoteError);
    expect(() => parseCheckpoint('o\n1\nAAAA\n')).toThrow(NoteError);
  });
});
