import { SoftAuthenticator } from './soft-authenticator.js';

/**
 * The simulated staff's passkey: the software authenticator, user verified and device-bound,
 * answering Vigie's ceremonies as a platform authenticator would. It never leaves its owner: an
 * attacker who phishes the owner gets nothing from it.
 */
export class PasskeyAuthenticator extends SoftAuthenticator {
  constructor(readonly origin: string) {
    super({ origin });
  }

  get enrolled(): boolean {
    return this.credentials.length > 0;
  }
}
