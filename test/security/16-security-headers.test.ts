// Attack: framing a settings page (clickjacking), injecting a script the page did not mean to run,
// sniffing a JSON body as HTML, leaking full URLs in Referer, and downgrading to http. Every page
// and API response carries the headers that stop these. A browser check of the same policy, with a
// signed-in page loaded top-level as desktop webviews do, is e2e/security/headers.spec.ts.
import { afterEach, describe, expect, test } from 'vitest';
import { NextRequest } from 'next/server';
import { unstable_doesMiddlewareMatch } from 'next/experimental/testing/server';
import { config, proxy } from '@/proxy';

const original = { APP_URL: process.env.APP_URL, FRAME_ANCESTORS: process.env.FRAME_ANCESTORS };
afterEach(() => {
  for (const [k, v] of Object.entries(original)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const directive = (policy: string, name: string) => policy.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';

describe('security headers', () => {
  test('every page and API path goes through the proxy that sets them; build assets do not', () => {
    for (const path of ['/', '/sign-in', '/w/acme/settings/members', '/lark/bind?token=x', '/api/me', '/api/auth/get-session', '/api/workspaces/1/events']) {
      expect(unstable_doesMiddlewareMatch({ config, url: `http://localhost:3000${path}` }), path).toBe(true);
    }
    expect(unstable_doesMiddlewareMatch({ config, url: 'http://localhost:3000/_next/static/chunks/main.js' })).toBe(false);
  });

  test('a nonce-based CSP that refuses framing, plus nosniff and a referrer policy', () => {
    process.env.APP_URL = 'http://localhost:3000';
    delete process.env.FRAME_ANCESTORS;
    const res = proxy(new NextRequest('http://localhost:3000/w/acme/settings'));
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(directive(csp, 'script-src'))?.[1];
    expect(nonce).toBeTruthy();
    expect(directive(csp, 'script-src')).not.toContain("'unsafe-inline'");
    expect(directive(csp, 'frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive(csp, 'object-src')).toBe("object-src 'none'");
    expect(directive(csp, 'base-uri')).toBe("base-uri 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    // Plain http: no HSTS (it would be ignored) and no upgrade of subresources to an https that is not there.
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(csp).not.toContain('upgrade-insecure-requests');
    // Next reads the nonce from the request's policy to put it on the scripts it renders.
    expect(res.headers.get('x-middleware-request-content-security-policy')).toBe(csp);
    // A fresh nonce for every request.
    const again = proxy(new NextRequest('http://localhost:3000/w/acme/settings')).headers.get('content-security-policy');
    expect(again).not.toBe(csp);
  });

  test('HSTS when the app is served over https', () => {
    process.env.APP_URL = 'https://larkspur.example.com';
    const res = proxy(new NextRequest('https://larkspur.example.com/api/me'));
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
    expect(res.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });

  test('FRAME_ANCESTORS lists the only origins allowed to frame the app', () => {
    process.env.FRAME_ANCESTORS = 'https://portal.example.com https://intranet.example.org';
    const res = proxy(new NextRequest('http://localhost:3000/w/acme'));
    expect(directive(res.headers.get('content-security-policy')!, 'frame-ancestors')).toBe('frame-ancestors https://portal.example.com https://intranet.example.org');
    expect(res.headers.get('x-frame-options')).toBeNull();
  });
});
