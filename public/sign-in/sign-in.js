import { startAuthentication } from '/assets/simplewebauthn/index.js';
import { getJson, postJson, say, sayError } from './common.js';

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

// The upstream identity providers configured (none by default): one link each, to a plain navigation.
getJson('/api/v1/auth/federation/providers')
  .then(({ items }) => {
    const list = document.getElementById('federation');
    for (const provider of items) {
      const link = document.createElement('a');
      link.href = `/api/v1/auth/federation/${encodeURIComponent(provider.id)}/start`;
      link.textContent = `Se connecter avec ${provider.name}`;
      const en = document.createElement('span');
      en.lang = 'en';
      en.textContent = ` / Sign in with ${provider.name}`;
      link.append(en);
      const item = document.createElement('li');
      item.append(link);
      list.append(item);
    }
  })
  .catch(() => {});
