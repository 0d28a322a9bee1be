import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import en from '../../locales/en.json' with { type: 'json' };

// The security headers in a real browser: a signed-in page loaded top-level, as a desktop webview
// does, renders and runs its scripts with no Content-Security-Policy violation, whether the session
// is a cookie or a bearer token; and no other page may put the app in a frame.

const baseURL = `http://127.0.0.1:${process.env.E2E_PORT ?? 3210}`;

type Signed = { email: string; password: string; token: string; slug: string };

async function signUpByApi(request: APIRequestContext): Promise<Signed> {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const email = `csp-${id}@example.test`;
  const password = `pw-${id}-headers`;
  expect((await request.post('/api/auth/sign-up/email', { data: { name: `Csp ${id}`, email, password } })).status()).toBe(200);
  const signedIn = await request.post('/api/auth/sign-in/email', { data: { email, password } });
  expect(signedIn.status()).toBe(200);
  const token = signedIn.headers()['set-auth-token']!;
  const slug = `csp-${id}`;
  const created = await request.post('/api/workspaces', {
    headers: { authorization: `Bearer ${token}` },
    data: { name: `Csp ${id}`, slug, issue_prefix: 'CSP' },
  });
  expect(created.status()).toBe(201);
  return { email, password, token, slug };
}

/** Records CSP violations and script errors from the first byte of every document. */
async function watch(page: Page): Promise<() => Promise<string[]>> {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /content security policy|refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { __csp: string[] }).__csp = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`));
  });
  return async () => [...problems, ...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []))];
}

async function openMembers(browser: Browser, signed: Signed, session: 'cookie' | 'bearer') {
  const context = await browser.newContext({
    baseURL,
    ...(session === 'bearer' && { extraHTTPHeaders: { authorization: `Bearer ${signed.token}` } }),
  });
  await context.addCookies([{ name: 'NEXT_LOCALE', value: 'en', url: baseURL }]);
  // The context's request client shares the browser's cookie jar: signing in here sets the session
  // cookie. With a cookie already in the jar, better-auth wants to see our origin, as a browser sends it.
  if (session === 'cookie') {
    const signIn = await context.request.post('/api/auth/sign-in/email', { headers: { origin: baseURL }, data: { email: signed.email, password: signed.password } });
    expect(signIn.status()).toBe(200);
  }
  const page = await context.newPage();
  const problems = await watch(page);
  const response = await page.goto(`/w/${signed.slug}/settings/members`);
  return { context, page, problems, response: response! };
}

test('a signed-in page renders top-level with no CSP violation, by cookie and by bearer token', async ({ browser, request }) => {
  const signed = await signUpByApi(request);
  for (const session of ['cookie', 'bearer'] as const) {
    const { context, page, problems, response } = await openMembers(browser, signed, session);
    const headers = response.headers();
    expect(headers['content-security-policy']).toMatch(/script-src [^;]*'nonce-[^']+'/);
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    // The member list is fetched by client-side code: it appearing proves the scripts ran.
    await expect(page.getByRole('heading', { name: en.settings.members.title })).toBeVisible();
    await expect(page.getByText(signed.email).first()).toBeVisible();
    expect(await problems(), session).toEqual([]);
    await context.close();
  }
});

test('API responses carry the headers too', async ({ request }) => {
  const res = await request.get('/api/me');
  expect(res.status()).toBe(401);
  expect(res.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers()['x-content-type-options']).toBe('nosniff');
});

test('another site cannot frame the app', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route('http://framer.test/', (route) => route.fulfill({ contentType: 'text/html', body: `<iframe src="${baseURL}/sign-in"></iframe>` }));
  await page.goto('http://framer.test/');
  const frame = page.frames().find((f) => f !== page.mainFrame());
  // The frame never gets the sign-in form: Chromium blocks the document.
  await page.waitForTimeout(1_000);
  expect(await frame?.locator('form').count().catch(() => 0)).toBe(0);
  await context.close();
});
