import { NextResponse, type NextRequest } from 'next/server';
import { ATTACHMENT_DOWNLOAD_CSP, isAttachmentDownloadPath, parseFrameAncestors, securityHeaders } from '@/server/http/security-headers';

/** Header carrying the requested path (with its query) to server components, which cannot see the URL. */
export const REQUEST_PATH_HEADER = 'x-larkspur-path';

// Security headers on every page and API response, with a fresh script nonce per request: Next
// reads it from the request's Content-Security-Policy and puts it on the scripts it renders. Also
// lets a layout send a signed-out visitor to sign in and straight back, before anything renders.
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
  const policy = securityHeaders({
    nonce,
    appUrl: process.env.APP_URL ?? request.nextUrl.origin,
    frameAncestors: parseFrameAncestors(process.env.FRAME_ANCESTORS),
    dev: process.env.NODE_ENV === 'development',
  });
  // A download gets its own sandboxed policy rather than the page's (the first one set is the one sent).
  if (isAttachmentDownloadPath(request.nextUrl.pathname)) policy['Content-Security-Policy'] = ATTACHMENT_DOWNLOAD_CSP;
  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  headers.set('Content-Security-Policy', policy['Content-Security-Policy']!);
  const response = NextResponse.next({ request: { headers } });
  for (const [name, value] of Object.entries(policy)) response.headers.set(name, value);
  return response;
}

// Everything but build assets, which carry no markup and are served with their own caching.
export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
