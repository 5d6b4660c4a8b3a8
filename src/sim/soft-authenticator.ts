import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/**
 * A software WebAuthn authenticator: ES256 keys, `none` attestation, discoverable credentials, with
 * the flags (UV, BE/BS), counter and origin under the caller's control. The simulator's staff use it
 * (passkey-authenticator.ts) and so do the tests through the HTTP API; the browser tests use
 * Chromium's virtual authenticator instead.
 */

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  throw new Error('too long for this encoder');
}
type Cbor = number | string | Buffer | Map<Cbor, Cbor>;
function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  const parts = [head(5, v.size)];
  for (const [k, x] of v) parts.push(cbor(k), cbor(x));
  return Buffer.concat(parts);
}

const b64 = (b: Buffer) => b.toString('base64url');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

export interface SoftCredential {
  readonly id: Buffer;
  readonly key: KeyObject;
  readonly userHandle: string;
  counter: number;
}

export interface SoftOptions {
  origin?: string;
  rpId?: string;
  userVerified?: boolean;
  /** Backup eligible and backed up: a synced passkey. */
  synced?: boolean;
  aaguid?: string;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  constructor(readonly options: SoftOptions = {}) {}

  #flags(attested: boolean, o: SoftOptions): number {
    const uv = o.userVerified ?? this.options.userVerified ?? true;
    const synced = o.synced ?? this.options.synced ?? false;
    return 0x01 | (uv ? 0x04 : 0) | (synced ? 0x18 : 0) | (attested ? 0x40 : 0);
  }

  #clientData(type: string, challenge: string, o: SoftOptions): Buffer {
    return Buffer.from(
      JSON.stringify({
        type,
        challenge,
        origin: o.origin ?? this.options.origin ?? 'http://localhost:8080',
        crossOrigin: false,
      }),
    );
  }

  /** Answers creation options as navigator.credentials.create() would, through @simplewebauthn/browser. */
  register(creation: PublicKeyCredentialCreationOptionsJSON, o: SoftOptions = {}): RegistrationResponseJSON {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const id = randomBytes(32);
    const rpId = o.rpId ?? this.options.rpId ?? creation.rp.id ?? 'localhost';
    const aaguid = Buffer.from(
      (o.aaguid ?? this.options.aaguid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''),
      'hex',
    );
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.#flags(true, o)]),
      Buffer.alloc(4),
      aaguid,
      Buffer.from([id.length >> 8, id.length & 0xff]),
      id,
      cose,
    ]);
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    this.credentials.push({ id, key: privateKey, userHandle: creation.user.id, counter: 0 });
    return {
      id: b64(id),
      rawId: b64(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64(this.#clientData('webauthn.create', creation.challenge, o)),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  /** Answers request options with one of its credentials (the last registered by default). */
  assert(
    request: PublicKeyCredentialRequestOptionsJSON,
    o: SoftOptions & { credential?: SoftCredential; counter?: number } = {},
  ): AuthenticationResponseJSON {
    const credential = o.credential ?? this.credentials[this.credentials.length - 1];
    if (!credential) throw new Error('no passkey registered');
    credential.counter = o.counter ?? credential.counter + 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.counter);
    const authData = Buffer.concat([
      sha256(o.rpId ?? this.options.rpId ?? request.rpId ?? 'localhost'),
      Buffer.from([this.#flags(false, o)]),
      counter,
    ]);
    const clientDataJSON = this.#clientData('webauthn.get', request.challenge, o);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.key);
    return {
      id: b64(credential.id),
      rawId: b64(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
    };
  }
}
