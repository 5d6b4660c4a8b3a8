import { getJson, postJson, say, sayError, scriptReady } from './common.js';

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

async function revoke(id) {
  const res = await fetch(`/api/v1/auth/passkeys/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    credentials: 'same-origin',
  });
  if (!res.ok) say('La révocation a échoué.', 'Revocation failed.');
  await load();
}

async function load() {
  try {
    const me = await getJson('/api/v1/accounts/me');
    document.getElementById('who').textContent = me.email;
    const passkeys = await getJson('/api/v1/auth/passkeys');
    const list = document.getElementById('passkeys');
    list.replaceChildren(
      ...passkeys.items.map((p) => {
        const li = item(
          `${p.name} — ${p.synced ? 'synchronisée / synced' : 'liée à l’appareil / device-bound'}`,
        );
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'Révoquer / Revoke';
        button.setAttribute('aria-label', `Révoquer ${p.name} / Revoke ${p.name}`);
        button.addEventListener('click', () => void revoke(p.id));
        li.append(' ', button);
        return li;
      }),
    );
    const sessions = await getJson('/api/v1/auth/sessions');
    document
      .getElementById('sessions')
      .replaceChildren(
        ...sessions.items.map((s) =>
          item(
            `${s.browserFamily} · ${s.networkPrefix} · ${s.aal.toUpperCase()} · ${s.createdAt.slice(0, 16).replace('T', ' ')} UTC${s.current ? ' (cette session / this session)' : ''}`,
          ),
        ),
      );
    const recovery = await getJson('/api/v1/auth/recovery-codes');
    document.getElementById('recovery-status').textContent =
      recovery.remaining > 0
        ? `${recovery.remaining} code(s) inutilisé(s) / unused code(s)`
        : 'Aucun code de secours / No recovery code';
  } catch (error) {
    if (error.status === 401) location.assign('/sign-in');
    else sayError(error);
  }
}

document.getElementById('recovery-generate').addEventListener('click', async () => {
  try {
    const { codes } = await postJson('/api/v1/auth/recovery-codes');
    document.getElementById('recovery-codes').replaceChildren(...codes.map((c) => item(c)));
    document.getElementById('recovery-shown').hidden = false;
    await load();
  } catch (error) {
    // Codes outlive every session: generating them asks for a fresh confirmation first.
    if (error.code === 'STEP_UP_REQUIRED') location.assign('/step-up?return=/account');
    else sayError(error);
  }
});

document.getElementById('sign-out-everywhere').addEventListener('click', async () => {
  try {
    await postJson('/api/v1/auth/sign-out-everywhere');
    location.assign('/sign-in');
  } catch (error) {
    sayError(error);
  }
});

void load();

// Every handler above is attached: the page's buttons may be pressed now.
scriptReady();
