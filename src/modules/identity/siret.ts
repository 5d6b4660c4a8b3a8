/**
 * SIRET (14 digits: SIREN + establishment number) as INSEE issues it. The check digit follows Luhn,
 * except for La Poste (SIREN 356000000), whose thousands of establishments outgrew the Luhn space:
 * INSEE numbers them so that the sum of their digits is a multiple of 5 instead.
 */
const LA_POSTE_SIREN = '356000000';

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function digitSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48;
  return sum;
}

/** True for a well-formed SIRET: 14 digits whose check holds (Luhn, or La Poste's rule). */
export function isValidSiret(value: string): boolean {
  if (!/^\d{14}$/.test(value)) return false;
  if (value.startsWith(LA_POSTE_SIREN)) return luhnValid(value) || digitSum(value) % 5 === 0;
  return luhnValid(value);
}

/** Accepts the usual written forms ("362 521 879 00034") and returns the 14 digits, or undefined. */
export function normaliseSiret(value: string): string | undefined {
  const compact = value.replace(/[\s.]/g, '');
  return isValidSiret(compact) ? compact : undefined;
}
