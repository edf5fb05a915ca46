import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/**
 * Phone numbers to E.164 (docs/http.md §1.2). Formatting characters (spaces, dashes, dots, brackets)
 * are allowed; anything else (letters, `sip:`, `client:alice`, `anonymous`) is not a number.
 * `max` metadata is used so validity is checked against each region's real number ranges.
 */
const FORMATTED_NUMBER = /^\+?[0-9 ().\-]+$/;

export function normalizePhone(input: string, region: string): string | undefined {
  const s = input.trim();
  if (s.length > 40 || !FORMATTED_NUMBER.test(s)) return undefined;
  const digits = s.replace(/[^0-9]/g, '');
  if (digits.length < 5 || digits.length > 17) return undefined;
  const parsed = parsePhoneNumberFromString(s, { defaultCountry: region as CountryCode, extract: false });
  if (!parsed || !parsed.isValid()) return undefined;
  return parsed.number;
}
