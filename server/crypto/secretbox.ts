import 'server-only';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {}

/** Opened ciphertexts remembered per box: every agent run and delivery opens its bot's app secret. */
const OPENED_CACHE_SIZE = 1024;

/**
 * Authenticated encryption for secrets at rest (Lark app secrets, device codes): AES-256-GCM with
 * a random nonce per message. Tampered or foreign ciphertext fails to open instead of decrypting to
 * garbage.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly opened = new Map<string, string>();

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('The secret key must be exactly 32 bytes');
    this.key = key;
  }

  /** Parses a base64-encoded 32-byte key (the LARK_SECRET_KEY format). */
  static fromBase64(encoded: string): SecretBox {
    const trimmed = encoded.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new SecretBoxError('The secret key is not base64');
    return new SecretBox(Buffer.from(trimmed, 'base64'));
  }

  /**
   * A deterministic keyed digest (HMAC-SHA256 under a key derived for `purpose`), base64url: the same
   * input always gives the same value, and nobody without the key can compute or predict it.
   */
  derive(purpose: string, input: string): string {
    const purposeKey = createHmac('sha256', this.key).update(`larkspur:${purpose}`).digest();
    return createHmac('sha256', purposeKey).update(input).digest('base64url');
  }

  seal(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')}`;
  }

  open(sealed: string): string {
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    const plaintext = this.decrypt(sealed);
    // Only what authenticated is remembered; the oldest entry makes room.
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value as string);
    this.opened.set(sealed, plaintext);
    return plaintext;
  }

  private decrypt(sealed: string): string {
    const [version, payload] = sealed.split(':', 2);
    if (version !== VERSION || !payload) throw new SecretBoxError('Unknown ciphertext format');
    const raw = Buffer.from(payload, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('Ciphertext is truncated');
    const nonce = raw.subarray(0, NONCE_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('Ciphertext failed authentication (tampered, or sealed with another key)');
    }
  }
}
