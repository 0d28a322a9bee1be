// Body reading shared by the route wrapper and the /api/auth mount.

// C0 controls but tab, newline and carriage return; DEL and the C1 range. Postgres refuses NUL in
// text outright, and none of these belongs in a name, a title or a message.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * The path (`name`, `runtime.model`) of the first string, or object key, in parsed JSON that holds a
 * control character; null when there is none.
 */
export function controlCharacterPath(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return CONTROL_CHARACTERS.test(value) ? path.join('.') || 'body' : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const found = CONTROL_CHARACTERS.test(k) ? [...path, k].join('.') : controlCharacterPath(v, [...path, k]);
    if (found) return found;
  }
  return null;
}

export function isJsonContentType(headers: Headers): boolean {
  const type = headers.get('content-type');
  return type !== null && type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * The body's bytes, or 'too_large' as soon as the declared length or the bytes read pass `limit`
 * (reading stops there, so a client cannot make us buffer more).
 */
export async function readBodyCapped(req: Request, limit: number): Promise<Buffer | 'too_large'> {
  if (Number(req.headers.get('content-length') ?? 0) > limit) return 'too_large';
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return 'too_large';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
