import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';

// Random bytes drawn in blocks: one draw per id cost a system call each, and the simulator makes
// several ids for every message and reply it handles.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

export function randomHex(length: number): string {
  const bytes = Math.ceil(length / 2);
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, bytes));
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes).slice(0, length);
  poolAt += bytes;
  return hex;
}

const alphanumeric = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// No vowels or look-alikes, so a code read off a screen is unambiguous.
const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';

function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const newAppId = () => `cli_${randomHex(16)}`;
export const newAppSecret = () => randomFrom(alphanumeric, 32);
export const newTenantKey = () => randomHex(16);
export const newSimUserId = () => `usr_${randomHex(12)}`;
export const newLarkUserId = () => randomHex(8);
export const newUnionId = () => `on_${randomHex(32)}`;
export const newChatId = () => `oc_${randomHex(32)}`;
export const newMessageId = () => `om_${randomHex(32)}`;
export const newThreadId = () => `omt_${randomHex(14)}`;
export const newEventId = () => randomHex(32);
export const newDeliveryId = () => randomUUID();
export const newTraceId = () => randomHex(16);
export const newTenantToken = () => `t-${randomHex(40)}`;
export const newVerificationToken = () => randomFrom(alphanumeric, 32);
export const newDeviceCode = () => randomBytes(32).toString('base64url');
export const newUserCode = () => `${randomFrom(userCodeAlphabet, 4)}-${randomFrom(userCodeAlphabet, 4)}`;
export const newTicket = () => randomUUID();
export const newLogId = () => randomHex(24);
export const randomInt32 = () => randomInt(1, 2 ** 31 - 1);
export function randomDigits(length: number): string {
  let out = String(randomInt(1, 10));
  while (out.length < length) out += String(randomInt(0, 10));
  return out;
}

/** A deterministic open_id: the same subject gets a different id in every app scope. */
export function scopedOpenId(salt: string, scopeAppId: string, subject: string): string {
  return `ou_${createHash('sha256').update(`${salt}|${scopeAppId}|${subject}`).digest('hex').slice(0, 32)}`;
}
