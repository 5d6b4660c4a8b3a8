/**
 * E-mail addresses are compared in one canonical form so that "Alice@X.fr " and "alice@x.fr" are the
 * same account: trimmed, Unicode NFC, lower-cased (then NFC again, since lower-casing can decompose).
 * Lower-casing the local part is a deliberate choice: no mailbox provider our partners use
 * distinguishes case, and two accounts differing only by case are an impersonation risk.
 */
export const EMAIL_MAX_LENGTH = 254;

const SHAPE = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/u;

export function normaliseEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase().normalize('NFC');
}

/** The canonical form of a plausible address, or undefined when it cannot be one. */
export function canonicalEmail(raw: string): string | undefined {
  const email = normaliseEmail(raw);
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH) return undefined;
  if (/[\p{Cc}\p{Cf}]/u.test(email)) return undefined;
  return SHAPE.test(email) ? email : undefined;
}
