import fs from 'node:fs';
import path from 'node:path';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { digestOf } from './sign-in.secrets.js';
import { verifyAuthentication, verifyRegistration, type WebAuthnPolicy } from './passkey.webauthn.js';

/**
 * The 15 W3C WebAuthn Level 3 test vectors (../shared/vectors/webauthn, see SOURCE.md), run through
 * Vigie's own WebAuthn policy: each registers, then authenticates with the key it registered, or is
 * an asserted, documented refusal below.
 */
interface Vector {
  id: string;
  title: string;
  registration: Record<string, string>;
  authentication: Record<string, string>;
}
const file = path.resolve(process.cwd(), '../shared/vectors/webauthn/w3c-l3-test-vectors.json');
const data = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  rpId: string;
  origin: string;
  vectors: Vector[];
};
const policy: WebAuthnPolicy = {
  rpId: data.rpId,
  rpName: 'Vectors',
  origin: data.origin,
  aaguidAllowlists: { privileged: [], agent: [], partner: [], other: [] },
};
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/**
 * Vectors @simplewebauthn/server itself cannot verify, with the library's own reason: Vigie refuses
 * them (REGISTRATION_REJECTED) and the bare library is asserted to fail the same way.
 */
const UNSUPPORTED_BY_LIBRARY: Record<string, { why: string; message: RegExp }> = {
  'tpm-es256': {
    why: 'the library accepts only TCG-registered TPM manufacturers; the vector uses id:00000000',
    message: /Could not match TPM manufacturer/,
  },
  'android-key-es256': {
    why: "the library cannot validate the vector's Android Key certificate path",
    message: /validating certificate path/,
  },
  'apple-es256': {
    why: "the library chains Apple attestations to Apple's root only; Vigie configures no other trust anchor",
    message: /could not be chained to any specified trust anchor/,
  },
  'fido-u2f-es256': {
    why: 'the library requires the all-zero AAGUID of U2F; the vector carries another one',
    message: /AAGUID .* was not expected value/,
  },
};

/** Vectors Vigie refuses by its own policy although the library accepts them; all others verify. */
const REFUSED: Record<string, string> = {
  'none-es256-crossOrigin':
    "Vigie's policy: its pages are never framed, so a ceremony with crossOrigin true is not ours (the library alone accepts it)",
  'none-es256-topOrigin':
    "Vigie's policy: a ceremony carrying a topOrigin ran inside another site's frame (the library alone accepts it)",
};

function registrationOf(v: Vector) {
  const r = v.registration;
  return {
    id: b64(r.credential_id!),
    rawId: b64(r.credential_id!),
    type: 'public-key' as const,
    response: { clientDataJSON: b64(r.clientDataJSON!), attestationObject: b64(r.attestationObject!) },
    clientExtensionResults: {},
  };
}

describe('W3C WebAuthn Level 3 test vectors', () => {
  it('has the 15 vectors the source names', () => {
    expect(data.vectors).toHaveLength(15);
  });

  it('refuses packed-ed448 (Packed Attestation with Ed448 Credential): the library registers an Ed448 key but cannot verify its assertion, so Vigie does not offer COSE -53', async () => {
    const v = data.vectors.find((x) => x.id === 'packed-ed448')!;
    await expect(
      verifyRegistration(policy, {
        response: registrationOf(v),
        challengeHash: digestOf(b64(v.registration.challenge!)),
        requireUserVerification: false,
        population: 'other',
      }),
    ).rejects.toMatchObject({ code: 'REGISTRATION_REJECTED' });
    const bare = await verifyRegistrationResponse({
      response: registrationOf(v),
      expectedChallenge: b64(v.registration.challenge!),
      expectedOrigin: policy.origin,
      expectedRPID: policy.rpId,
      requireUserVerification: false,
      supportedAlgorithmIDs: [-53],
    });
    expect(bare.verified).toBe(true);
    const a = v.authentication;
    const assertion = verifyAuthenticationResponse({
      response: {
        id: bare.registrationInfo!.credential.id,
        rawId: bare.registrationInfo!.credential.id,
        type: 'public-key',
        response: {
          clientDataJSON: b64(a.clientDataJSON!),
          authenticatorData: b64(a.authenticatorData!),
          signature: b64(a.signature!),
        },
        clientExtensionResults: {},
      },
      expectedChallenge: b64(a.challenge!),
      expectedOrigin: policy.origin,
      expectedRPID: policy.rpId,
      credential: bare.registrationInfo!.credential,
      requireUserVerification: false,
    });
    await expect(assertion.then((r) => r.verified)).rejects.toThrow();
  });

  for (const v of data.vectors) {
    if (v.id === 'packed-ed448') continue;
    const unsupported = UNSUPPORTED_BY_LIBRARY[v.id];
    if (unsupported) {
      it(`refuses ${v.id} (${v.title}), unsupported by our library: ${unsupported.why}`, async () => {
        await expect(
          verifyRegistration(policy, {
            response: registrationOf(v),
            challengeHash: digestOf(b64(v.registration.challenge!)),
            requireUserVerification: false,
            population: 'other',
          }),
        ).rejects.toMatchObject({ code: 'REGISTRATION_REJECTED' });
        await expect(
          verifyRegistrationResponse({
            response: registrationOf(v),
            expectedChallenge: b64(v.registration.challenge!),
            expectedOrigin: policy.origin,
            expectedRPID: policy.rpId,
            requireUserVerification: false,
          }),
        ).rejects.toThrow(unsupported.message);
      });
      continue;
    }
    const refused = REFUSED[v.id];
    if (refused) {
      it(`refuses ${v.id} (${v.title}): ${refused}`, async () => {
        const response = registrationOf(v);
        const challengeHash = digestOf(b64(v.registration.challenge!));
        await expect(
          verifyRegistration(policy, {
            response,
            challengeHash,
            requireUserVerification: false,
            population: 'other',
          }),
        ).rejects.toMatchObject({ code: 'REGISTRATION_REJECTED' });
        const bare = await verifyRegistrationResponse({
          response,
          expectedChallenge: b64(v.registration.challenge!),
          expectedOrigin: policy.origin,
          expectedRPID: policy.rpId,
          requireUserVerification: false,
        });
        expect(bare.verified).toBe(true);
      });
      continue;
    }
    it(`verifies ${v.id} (${v.title}): registration, then authentication with the registered key`, async () => {
      const registered = await verifyRegistration(policy, {
        response: registrationOf(v),
        challengeHash: digestOf(b64(v.registration.challenge!)),
        requireUserVerification: false,
        population: 'other',
      });
      expect(registered.credentialId).toBe(b64(v.registration.credential_id!));
      const a = v.authentication;
      const result = await verifyAuthentication(policy, {
        response: {
          id: registered.credentialId,
          rawId: registered.credentialId,
          type: 'public-key',
          response: {
            clientDataJSON: b64(a.clientDataJSON!),
            authenticatorData: b64(a.authenticatorData!),
            signature: b64(a.signature!),
          },
          clientExtensionResults: {},
        },
        challengeHash: digestOf(b64(a.challenge!)),
        credential: registered,
        requireUserVerification: false,
      });
      expect(result.newCounter).toBeGreaterThanOrEqual(0);
      // The same assertion against another challenge is refused: the check is not vacuous.
      await expect(
        verifyAuthentication(policy, {
          response: {
            id: registered.credentialId,
            rawId: registered.credentialId,
            type: 'public-key',
            response: {
              clientDataJSON: b64(a.clientDataJSON!),
              authenticatorData: b64(a.authenticatorData!),
              signature: b64(a.signature!),
            },
            clientExtensionResults: {},
          },
          challengeHash: digestOf(b64(v.registration.challenge!)),
          credential: registered,
          requireUserVerification: false,
        }),
      ).rejects.toMatchObject({ code: 'SIGN_IN_FAILED' });
    });
  }
});
