import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { SecretBox, SecretBoxError } from './secretbox';

const box = new SecretBox(randomBytes(32));

describe('SecretBox', () => {
  test('round-trips and never repeats a ciphertext', () => {
    const a = box.seal('app-secret-value');
    const b = box.seal('app-secret-value');
    expect(a).not.toBe(b);
    expect(a).not.toContain('app-secret-value');
    expect(box.open(a)).toBe('app-secret-value');
    expect(box.open(box.seal(''))).toBe('');
    expect(box.open(box.seal('秘密 🔑'))).toBe('秘密 🔑');
  });

  test('tampering with any byte is an error', () => {
    const sealed = box.seal('app-secret-value');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    for (const index of [0, 12, raw.length - 1]) {
      const copy = Buffer.from(raw);
      copy[index] ^= 0x01;
      expect(() => box.open(`v1:${copy.toString('base64')}`)).toThrow(SecretBoxError);
    }
  });

  test('an opened secret is remembered for its own ciphertext only: tampered text still fails after it', () => {
    const sealed = box.seal('remembered');
    expect(box.open(sealed)).toBe('remembered');
    expect(box.open(sealed)).toBe('remembered');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 0x01;
    expect(() => box.open(`v1:${raw.toString('base64')}`)).toThrow(SecretBoxError);
    // Another box with another key never sees this box's memory.
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow(/authentication/);
  });

  test('another key cannot open it', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(box.seal('x'))).toThrow(/authentication/);
  });

  test('rejects malformed keys and ciphertexts', () => {
    expect(() => SecretBox.fromBase64(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => SecretBox.fromBase64('not base64!')).toThrow(/base64/);
    expect(() => box.open('v2:abc')).toThrow(/format/);
    expect(() => box.open('v1:AAAA')).toThrow(/truncated/);
    expect(SecretBox.fromBase64(randomBytes(32).toString('base64'))).toBeInstanceOf(SecretBox);
  });
});
