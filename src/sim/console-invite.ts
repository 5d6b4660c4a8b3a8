import { VigieClient, type Caller } from './client.js';
import type { VigieHost } from './host.js';

/** The first operator's address, as bootstrapOperators in host.ts creates it. */
const FIRST_OPERATOR_EMAIL = 'operateur.1@vigie.example';

/**
 * After the demo, the way in for the person at the keyboard: the second operator has an enrolment
 * link mailed to the first (four-eyes as for any account; the link is journaled, stored as its
 * digest, single use), the simulator's mail sink receives it, and the demo prints it. Opening it
 * in a browser registers a passkey for the first operator and opens a session: the console then
 * shows the alerts of the run. Only the origin Vigie was started with works (WebAuthn binds the
 * passkey to it), so the link is given only when the server listens on that origin's port.
 */
export async function consoleInvitation(
  host: VigieHost,
  port: number,
): Promise<{ enrolUrl: string; consoleUrl: string } | { unavailable: string }> {
  const originPort = Number(new URL(host.origin).port || 80);
  if (originPort !== port)
    return {
      unavailable: `the console needs Vigie on ${host.origin} (passkeys are bound to that origin); run the demo with --port ${originPort} to get a console link`,
    };
  const client = new VigieClient(host.baseUrl, host.origin);
  const first: Caller = { ip: '127.0.0.1', token: host.operatorToken };
  const second: Caller = { ip: '127.0.0.1', token: host.secondOperatorToken };
  const me = await client.expect<{ id: string }>(first, 'GET', '/api/v1/accounts/me');
  await client.expect(second, 'POST', `/api/v1/accounts/${me.id}/enrolment-link`);
  const secret = await host.mail.enrolmentSecret(FIRST_OPERATOR_EMAIL, 15_000);
  return { enrolUrl: `${host.origin}/enrol#${secret}`, consoleUrl: `${host.origin}/console/` };
}
