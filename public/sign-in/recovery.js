import { startRegistration } from '/assets/simplewebauthn/index.js';
import { postJson, say, sayError, scriptReady } from './common.js';

document.getElementById('recovery-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = document.getElementById('email').value.trim();
  const code = document.getElementById('code').value.trim();
  try {
    await postJson('/api/v1/auth/recovery', { email, code });
    document.getElementById('code').value = '';
    document.getElementById('code-step').hidden = true;
    document.getElementById('reenrolment-step').hidden = true;
    document.getElementById('passkey-step').hidden = false;
    say('Code accepté.', 'Code accepted.');
  } catch (error) {
    sayError(error);
  }
});

document.getElementById('passkey-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = document.getElementById('passkey-name').value.trim();
  try {
    const { ceremonyId, options } = await postJson('/api/v1/auth/passkeys/registration/options');
    const response = await startRegistration({ optionsJSON: options });
    await postJson('/api/v1/auth/passkeys/registration/verify', {
      ceremonyId,
      response,
      ...(name ? { name } : {}),
    });
    say('Clé d’accès enregistrée.', 'Passkey registered.');
    location.assign('/account');
  } catch (error) {
    sayError(error);
  }
});

document.getElementById('reenrolment-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = document.getElementById('reenrolment-email').value.trim();
  try {
    await postJson('/api/v1/auth/reenrolment', { email });
    say(
      'Demande reçue. Si un compte correspond, une autre personne habilitée devra l’approuver.',
      'Request received. If an account matches, another authorised person must approve it.',
    );
  } catch (error) {
    sayError(error);
  }
});

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
