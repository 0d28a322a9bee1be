// Read by proxy.ts on every request, so it stays free of server-only modules and of env(): only
// APP_URL and FRAME_ANCESTORS matter here, both checked at start by server/env.ts.

export type SecurityHeaderOptions = {
  /** A fresh value per request; Next puts it on the scripts it renders. */
  nonce: string;
  appUrl: string;
  /** Origins allowed to frame the app; empty: none. */
  frameAncestors: string[];
  /** `next dev` evaluates code and talks to its reloader over a WebSocket. */
  dev: boolean;
};

/** FRAME_ANCESTORS as a list of origins (space- or comma-separated). */
export function parseFrameAncestors(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

export function contentSecurityPolicy(o: SecurityHeaderOptions): string {
  const https = o.appUrl.startsWith('https://');
  const directives = [
    "default-src 'self'",
    // strict-dynamic: scripts Next loads from a nonced script are allowed; nothing inline without the nonce.
    `script-src 'self' 'nonce-${o.nonce}' 'strict-dynamic'${o.dev ? " 'unsafe-eval'" : ''}`,
    // React writes style attributes (colours, sizes); a nonce cannot cover those, and styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${o.dev ? ' ws: wss:' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${o.frameAncestors.length > 0 ? o.frameAncestors.join(' ') : "'none'"}`,
    ...(https ? ['upgrade-insecure-requests'] : []),
  ];
  return directives.join('; ');
}

/** The headers every page and API response carries. */
export function securityHeaders(o: SecurityHeaderOptions): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(o),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    // For browsers without frame-ancestors; it cannot express a list, so it is left out when one is configured.
    ...(o.frameAncestors.length === 0 && { 'X-Frame-Options': 'DENY' }),
    ...(o.appUrl.startsWith('https://') && { 'Strict-Transport-Security': 'max-age=31536000' }),
  };
}

/**
 * The policy of an attachment download: nothing in the file may run or load, even if a browser
 * renders it. Next keeps the first policy set on a response, and the proxy sets it before the route.
 */
export const ATTACHMENT_DOWNLOAD_CSP = "default-src 'none'; sandbox";

const ATTACHMENT_DOWNLOAD_PATH = /^\/api\/workspaces\/[^/]+\/attachments\/[^/]+\/?$/;
export const isAttachmentDownloadPath = (pathname: string) => ATTACHMENT_DOWNLOAD_PATH.test(pathname);
