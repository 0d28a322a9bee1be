import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** better-auth's codes for length, ours for a password found in the common-password list. */
export type PasswordProblem = 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_COMMON';

let common: Set<string> | undefined;

// zxcvbn-ts ships the ~49,000 most common passwords of public breach corpora, ranked; built once.
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

/** Null when the password may be used. Case does not make a listed password safe. */
export function passwordProblem(password: string): PasswordProblem | null {
  if (password.length < PASSWORD_MIN_LENGTH) return 'PASSWORD_TOO_SHORT';
  if (password.length > PASSWORD_MAX_LENGTH) return 'PASSWORD_TOO_LONG';
  if (commonPasswords().has(password.trim().toLowerCase())) return 'PASSWORD_TOO_COMMON';
  return null;
}
