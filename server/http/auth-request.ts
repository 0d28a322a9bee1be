import 'server-only';
import { auth } from '../auth/auth';
import { env } from '../env';
import { CLIENT_ADDRESS_HEADER, clientAddress } from './client-address';
import { controlCharacterPath, isJsonContentType, readBodyCapped } from './request-body';

/** Sign-in, sign-up and profile bodies are a few hundred bytes. */
const AUTH_BODY_LIMIT_BYTES = 16 * 1024;
/** As the profile form and contract allow (server/contract/me.ts). */
const NAME_MAX_LENGTH = 80;
const EMAIL_MAX_LENGTH = 254;

// better-auth's own error shape, which its client reads.
const refuse = (status: number, code: string, message: string) => Response.json({ code, message }, { status });

/**
 * The /api/auth mount: caps and screens bodies before better-auth sees them, and hands it the
 * client address resolved from TRUST_PROXY_HOPS (it keys sign-in and sign-up rate limits by it),
 * replacing any value a client sent under that header.
 */
export async function handleAuthRequest(req: Request): Promise<Response> {
  const headers = new Headers(req.headers);
  const address = clientAddress(req.headers, env().TRUST_PROXY_HOPS);
  if (address) headers.set(CLIENT_ADDRESS_HEADER, address);
  else headers.delete(CLIENT_ADDRESS_HEADER);
  let body: Uint8Array | undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const read = await readBodyCapped(req, AUTH_BODY_LIMIT_BYTES);
    if (read === 'too_large') return refuse(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${AUTH_BODY_LIMIT_BYTES / 1024} KB`);
    // An empty body stays absent: better-auth refuses a present body without a JSON content type.
    body = read.byteLength > 0 ? read : undefined;
    if (body && isJsonContentType(headers)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
      } catch {
        return refuse(400, 'INVALID_BODY', 'The request body is not valid JSON');
      }
      if (controlCharacterPath(parsed)) return refuse(400, 'INVALID_CHARACTERS', 'Control characters are not allowed');
      const fields = (parsed ?? {}) as { name?: unknown; email?: unknown };
      if (typeof fields.name === 'string' && fields.name.length > NAME_MAX_LENGTH) {
        return refuse(422, 'NAME_TOO_LONG', `Name is at most ${NAME_MAX_LENGTH} characters`);
      }
      if (typeof fields.email === 'string' && fields.email.length > EMAIL_MAX_LENGTH) {
        return refuse(422, 'EMAIL_TOO_LONG', `Email is at most ${EMAIL_MAX_LENGTH} characters`);
      }
    }
  }
  return auth().handler(new Request(req.url, { method: req.method, headers, body: body as BodyInit | undefined, signal: req.signal }));
}
