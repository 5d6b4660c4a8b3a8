import { startAuthentication } from '/assets/simplewebauthn/index.js';
import { postJson, say, sayError } from './common.js';

// French first, English second; codes are the stable ones of src/modules/sign-in/federation/.
const REFUSALS = {
  FEDERATION_PROVIDER_UNKNOWN: [
    'Ce fournisseur d’identité n’est pas configuré.',
    'This identity provider is not configured.',
  ],
  FEDERATION_PROVIDER_UNAVAILABLE: [
    'Le fournisseur d’identité ne répond pas : réessayez plus tard.',
    'The identity provider does not answer: try again later.',
  ],
  FEDERATION_TRANSACTION_INVALID: [
    'Cette connexion a expiré ou a déjà servi : recommencez.',
    'This sign-in expired or was already used: start again.',
  ],
  FEDERATION_UPSTREAM_ERROR: [
    'Le fournisseur d’identité ne vous a pas connecté.',
    'The identity provider did not sign you in.',
  ],
  FEDERATION_RESPONSE_INVALID: [
    'La réponse du fournisseur d’identité n’a pas pu être vérifiée : recommencez.',
    'The identity provider’s answer could not be verified: start again.',
  ],
  FEDERATED_ACCOUNT_UNKNOWN: [
    'Aucun compte Vigie ne correspond à cette identité. Demandez à votre administrateur de vous en créer un.',
    'No Vigie account matches this identity. Ask your administrator to create one.',
  ],
  FEDERATED_ACCOUNT_INACTIVE: [
    'Le compte Vigie de cette identité n’est pas actif ou pas encore approuvé.',
    'The Vigie account for this identity is not active or not yet approved.',
  ],
  FEDERATED_ACCOUNT_MISMATCH: [
    'Le fournisseur d’identité a connecté une autre personne : recommencez.',
    'The identity provider signed in someone else: start again.',
  ],
  FEDERATED_ACCOUNT_ALREADY_LINKED: [
    'Ce compte Vigie est déjà lié à une autre identité. Contactez votre administrateur.',
    'This Vigie account is already linked to another identity. Contact your administrator.',
  ],
  FEDERATED_IDENTITY_REVOKED: [
    'Un administrateur a révoqué cette identité pour Vigie. Contactez votre administrateur.',
    'An administrator revoked this identity for Vigie. Contact your administrator.',
  ],
  FEDERATED_EMAIL_UNVERIFIED: [
    'Le fournisseur d’identité n’a pas vérifié votre adresse e-mail.',
    'The identity provider did not verify your e-mail address.',
  ],
  FEDERATED_EMAIL_CHANGED: [
    'L’adresse e-mail de cette identité a changé depuis sa liaison. Contactez votre administrateur.',
    'The e-mail of this identity changed since it was linked. Contact your administrator.',
  ],
  FEDERATED_SIRET_MISMATCH: [
    'L’organisation (SIRET) de cette identité n’est pas celle de votre compte Vigie.',
    'This identity’s organisation (SIRET) is not your Vigie account’s.',
  ],
  FEDERATED_ACR_INSUFFICIENT: [
    'La preuve du fournisseur d’identité est trop faible pour ce compte.',
    'The identity provider’s proof is too weak for this account.',
  ],
  SIGN_IN_LOCKED: ['Trop d’échecs : réessayez plus tard.', 'Too many failures: try again later.'],
};

const params = new URLSearchParams(location.search);
const error = params.get('error');
if (error) {
  const known = REFUSALS[error];
  if (known) say(known[0], known[1]);
  else say('La connexion a échoué.', 'Sign-in failed.');
} else if (params.get('step') === 'passkey') {
  document.getElementById('passkey-step').hidden = false;
  document.getElementById('passkey-button').addEventListener('click', async () => {
    try {
      say('Présentez votre clé d’accès…', 'Present your passkey…');
      const { options } = await postJson('/api/v1/auth/federation/passkey/options');
      const response = await startAuthentication({ optionsJSON: options });
      await postJson('/api/v1/auth/federation/passkey/verify', { response });
      say('Connecté.', 'Signed in.');
      location.assign('/account');
    } catch (failure) {
      const known = REFUSALS[failure.code];
      if (known) say(known[0], known[1]);
      else sayError(failure);
    }
  });
}
