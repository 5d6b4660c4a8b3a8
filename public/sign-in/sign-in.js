import { startAuthentication } from '/assets/simplewebauthn/index.js';
import { postJson, say, sayError } from './common.js';

const form = document.getElementById('sign-in-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = document.getElementById('email').value.trim();
  try {
    say('Présentez votre clé d’accès…', 'Present your passkey…');
    const { ceremonyId, options } = await postJson('/api/v1/auth/sign-in/options', email ? { email } : {});
    const response = await startAuthentication({ optionsJSON: options });
    await postJson('/api/v1/auth/sign-in/verify', { ceremonyId, response });
    say('Connecté.', 'Signed in.');
    location.assign('/account');
  } catch (error) {
    sayError(error);
  }
});
