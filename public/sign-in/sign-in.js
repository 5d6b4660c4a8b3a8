import { startAuthentication } from '/assets/simplewebauthn/index.js';
import { getJson, postJson, say, sayError, scriptReady } from './common.js';

/**
 * Where to go once signed in: `?return=` when it is a path of Vigie itself (the OpenID Provider's
 * interaction sends the browser here and back), else /account. A path starting with `//` or `/\`
 * would leave the origin, so is refused, as is anything the URL parser resolves elsewhere.
 */
function returnPath() {
  const raw = new URLSearchParams(location.search).get('return');
  if (!raw || raw.length > 512 || !/^\/(?![\/\\])[\x21-\x7e]*$/.test(raw)) return '/account';
  const url = new URL(raw, location.origin);
  return url.origin === location.origin ? url.pathname + url.search : '/account';
}

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
    location.assign(returnPath());
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
// Sent here by the OpenID Provider with a Vigie session this browser already holds (its SameSite
// cookie is not sent on the cross-site redirect that began the sign-in): go straight back, unless
// a new sign-in was asked for (`reauth=1`: a stronger or a fresher one).
const query = new URLSearchParams(location.search);
if (query.has('return') && query.get('reauth') !== '1') {
  getJson('/api/v1/accounts/me')
    .then(() => location.replace(returnPath()))
    .catch(() => undefined);
}

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
