// Shared by Vigie's sign-in pages: JSON calls to the API and one status line read by screen readers.

export async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
    credentials: 'same-origin',
  });
  return answer(res);
}

export async function getJson(url) {
  return answer(await fetch(url, { credentials: 'same-origin' }));
}

async function answer(res) {
  if (res.status === 204) return null;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    error.code = body?.error?.code ?? 'HTTP_' + res.status;
    error.status = res.status;
    error.reason = body?.error?.details?.reason;
    throw error;
  }
  return body;
}

const MESSAGES = {
  SIGN_IN_FAILED: [
    'La connexion a échoué. Réessayez avec une de vos clés d’accès.',
    'Sign-in failed. Try again with one of your passkeys.',
  ],
  SIGN_IN_LOCKED: ['Trop d’échecs : réessayez plus tard.', 'Too many failures: try again later.'],
  ENROLMENT_LINK_INVALID: [
    'Ce lien n’est plus valable. Demandez-en un nouveau à votre administrateur.',
    'This link is no longer valid. Ask your administrator for a new one.',
  ],
  CEREMONY_INVALID: ['La demande a expiré : recommencez.', 'The request expired: start again.'],
  REGISTRATION_REJECTED: ['La clé d’accès n’a pas pu être vérifiée.', 'The passkey could not be verified.'],
  AUTHENTICATOR_NOT_ALLOWED: [
    'Ce modèle d’authentificateur n’est pas autorisé ici.',
    'This authenticator model is not allowed here.',
  ],
  STEP_UP_FAILED: [
    'La confirmation a échoué. Réessayez avec une de vos clés d’accès.',
    'The confirmation failed. Try again with one of your passkeys.',
  ],
  STEP_UP_REQUIRED: [
    'Cette action demande de confirmer avec votre clé d’accès.',
    'This action needs a confirmation with your passkey.',
  ],
  PASSKEY_SESSION_REQUIRED: [
    'Connectez-vous avec une clé d’accès pour confirmer.',
    'Sign in with a passkey to confirm.',
  ],
  RECOVERY_CODES_NOT_ALLOWED: [
    'Les codes de secours ne sont pas proposés à ce compte : en cas de perte, un administrateur approuve une nouvelle inscription.',
    'Recovery codes are not offered to this account: if you lose your passkeys, an administrator approves a new enrolment.',
  ],
  TOTP_NOT_ALLOWED: [
    'L’application d’authentification n’est pas proposée à ce compte : utilisez une clé d’accès.',
    'An authenticator app is not offered to this account: use a passkey.',
  ],
  TOTP_ALREADY_ENROLLED: [
    'Une application est déjà configurée : retirez-la d’abord.',
    'An app is already set up: remove it first.',
  ],
  TOTP_CODE_INVALID: ['Ce code n’est pas le bon.', 'This code is not the right one.'],
  TOTP_ENROLMENT_INVALID: ['La configuration a expiré : recommencez.', 'The set-up expired: start again.'],
  TOTP_NOT_FOUND: ['Aucune application n’est configurée.', 'No app is set up.'],
  RECOVERY_SESSION_LIMITED: [
    'Enregistrez d’abord une nouvelle clé d’accès.',
    'Register a new passkey first.',
  ],
};

/**
 * A path of Vigie's own to return to after a step-up: same origin, absolute path, no scheme-relative
 * `//host` nor backslash trick; anything else returns to /account.
 */
export function safeReturnPath(raw) {
  if (typeof raw !== 'string' || raw.length > 512) return '/account';
  if (!/^\/(?![\/\\])[A-Za-z0-9\-._~\/?=&%]*$/.test(raw)) return '/account';
  const url = new URL(raw, location.origin);
  return url.origin === location.origin ? url.pathname + url.search : '/account';
}

/** Shows a French line then its English translation in the page's status region. */
export function say(fr, en) {
  const status = document.getElementById('status');
  status.replaceChildren();
  const a = document.createElement('span');
  a.textContent = fr;
  const b = document.createElement('span');
  b.lang = 'en';
  b.textContent = ` / ${en}`;
  status.append(a, b);
}

export function sayError(error) {
  const known = MESSAGES[error.code];
  if (known) say(known[0], known[1]);
  else if (error.name === 'NotAllowedError') say('Opération annulée.', 'Cancelled.');
  else say('Une erreur est survenue.', 'Something went wrong.');
}

/**
 * A page's buttons arrive disabled (`data-awaits-script disabled`) until its script has attached
 * their handlers: pressed before that, a passkey button would do nothing and a form's would submit
 * it natively. Each page's script calls this last.
 */
export function scriptReady() {
  for (const button of document.querySelectorAll('button[data-awaits-script]')) {
    button.disabled = false;
    button.removeAttribute('data-awaits-script');
  }
}
