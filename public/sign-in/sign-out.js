import { postJson, say, sayError, scriptReady } from './common.js';

document.getElementById('sign-out-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await postJson('/api/v1/auth/sign-out');
    say('Vous êtes déconnecté.', 'You are signed out.');
  } catch (error) {
    if (error.status === 401) say('Vous êtes déconnecté.', 'You are signed out.');
    else sayError(error);
  }
});

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
