import { startRegistration } from '/assets/simplewebauthn/index.js';
import { postJson, say, sayError, scriptReady } from './common.js';

// The secret travels in the fragment, which browsers never send: it reaches no access log.
const token = location.hash.slice(1);
history.replaceState(null, '', location.pathname);
if (!token) say('Ce lien est incomplet.', 'This link is incomplete.');

document.getElementById('enrol-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = document.getElementById('passkey-name').value.trim();
  try {
    const { ceremonyId, options } = await postJson('/api/v1/auth/enrolment/options', { token });
    const response = await startRegistration({ optionsJSON: options });
    await postJson('/api/v1/auth/enrolment/verify', { ceremonyId, response, ...(name ? { name } : {}) });
    say('Clé d’accès enregistrée.', 'Passkey registered.');
    location.assign('/account');
  } catch (error) {
    sayError(error);
  }
});

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
