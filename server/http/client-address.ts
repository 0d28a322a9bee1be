import { isIP } from 'node:net';

/**
 * The TCP peer's address, set by our web server (scripts/web-server.mjs) on every request,
 * replacing whatever a client sent under that name. Next's route handlers cannot see the socket.
 */
export const PEER_ADDRESS_HEADER = 'x-larkspur-peer-address';

/** The resolved client address handed to better-auth, which keys its rate limits by it. */
export const CLIENT_ADDRESS_HEADER = 'x-larkspur-client-address';

/**
 * The client's address given `hops` trusted reverse proxies in front of the web server: 0 is the
 * peer itself; N is the Nth X-Forwarded-For entry from the right, the one our nearest proxy
 * appended, since everything left of the proxies' own entries is whatever the client wrote. A chain
 * shorter than `hops` yields its leftmost entry. Null when nothing usable is there.
 */
export function clientAddress(headers: Headers, hops: number): string | null {
  const forwarded = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Without our server in front (`next dev`, a bare `next start`) the peer is unknown; Next then
  // fills X-Forwarded-For with the socket address only when the client sent none.
  const peer = headers.get(PEER_ADDRESS_HEADER)?.trim() || forwarded.pop();
  if (!peer) return null;
  const chain = [...forwarded, peer];
  const candidate = chain[Math.max(0, chain.length - 1 - hops)]!;
  return isIP(stripPort(candidate)) ? stripPort(candidate) : null;
}

// Some proxies write `1.2.3.4:5678` or `[::1]:5678`.
function stripPort(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
  return v4 ? v4[1]! : value;
}
