import { NextResponse, type NextRequest } from 'next/server';

/** Header carrying the requested path (with its query) to server components, which cannot see the URL. */
export const REQUEST_PATH_HEADER = 'x-larkspur-path';

// Lets a layout send a signed-out visitor to sign in and straight back, before anything renders.
export function proxy(request: NextRequest) {
  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.next({ request: { headers } });
}

export const config = { matcher: ['/w/:path*', '/lark/:path*', '/workspaces/:path*'] };
