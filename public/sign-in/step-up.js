import { startAuthentication } from '/assets/simplewebauthn/index.js';
import { getJson, postJson, safeReturnPath, say, sayError, scriptReady } from './common.js';

const returnTo = safeReturnPath(new URLSearchParams(location.search).get('return') ?? '/account');

getJson('/api/v1/accounts/me').catch((error) => {
  if (error.status === 401) location.assign('/sign-in');
  else sayError(error);
});

document.getElementById('step-up-button').addEventListener('click', async () => {
  try {
    say('Présentez votre clé d’accès…', 'Present your passkey…');
    const { ceremonyId, options } = await postJson('/api/v1/auth/step-up/options');
    const response = await startAuthentication({ optionsJSON: options });
    await postJson('/api/v1/auth/step-up/verify', { ceremonyId, response });
    say('Confirmé.', 'Confirmed.');
    location.assign(returnTo);
  } catch (error) {
    if (error.status === 401) location.assign('/sign-in');
    else sayError(error);
  }
});

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
