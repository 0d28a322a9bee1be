import { describe, expect, test } from 'vitest';
import { passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  test('length bounds come first', () => {
    expect(passwordProblem('abc')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('1234567')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('x'.repeat(129))).toBe('PASSWORD_TOO_LONG');
  });

  test('listed passwords are refused whatever their case', () => {
    for (const p of ['password', '12345678', 'password1', 'Password123', 'QWERTYUIOP', 'iloveyou1', ' sunshine ']) {
      expect(passwordProblem(p), p).toBe('PASSWORD_TOO_COMMON');
    }
  });

  test('an uncommon password passes', () => {
    expect(passwordProblem('correct-horse-battery')).toBeNull();
    expect(passwordProblem('lilac-harbour-lantern')).toBeNull();
    expect(passwordProblem('x'.repeat(128))).toBeNull();
  });
});
