import { getJson, postJson, say, sayError, scriptReady } from './common.js';

getJson('/api/v1/accounts/me').catch((error) => {
  if (error.status === 401) location.assign('/sign-in');
  else sayError(error);
});

document.getElementById('totp-start').addEventListener('click', async () => {
  try {
    const { uri } = await postJson('/api/v1/auth/totp/enrolment');
    document.getElementById('totp-secret').textContent = new URL(uri).searchParams.get('secret');
    document.getElementById('totp-uri').textContent = uri;
    document.getElementById('totp-setup').hidden = false;
    say('Saisissez le code de votre application.', 'Type the code from your app.');
  } catch (error) {
    // A TOTP secret outlives the session: enrolling one asks for a fresh confirmation first.
    if (error.code === 'STEP_UP_REQUIRED' && error.reason !== 'passkey_session_required')
      location.assign('/step-up?return=/totp');
    else sayError(error);
  }
});

document.getElementById('totp-confirm-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await postJson('/api/v1/auth/totp/enrolment/confirm', {
      code: document.getElementById('totp-code').value.trim(),
    });
    document.getElementById('totp-setup').hidden = true;
    document.getElementById('totp-secret').textContent = '';
    document.getElementById('totp-uri').textContent = '';
    say('Application activée.', 'App enabled.');
  } catch (error) {
    sayError(error);
  }
});

document.getElementById('totp-revoke').addEventListener('click', async () => {
  const res = await fetch('/api/v1/auth/totp', { method: 'DELETE', credentials: 'same-origin' });
  if (res.ok) say('Application retirée.', 'App removed.');
  else sayError({ code: (await res.json().catch(() => null))?.error?.code });
});

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
