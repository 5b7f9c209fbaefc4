// Unsafe console requests from another origin are refused (Fetch Metadata / Origin check).
import { baseURL } from '../playwright.config';
import { expect, PASSWORD, signUp, test, uniqueEmail } from './helpers';

test('a form on another origin cannot post to the console', async ({ page }) => {
  await signUp(page, uniqueEmail());
  // localhost and 127.0.0.1 are different sites: this page is "cross-site" to the console.
  const foreign = baseURL.replace('127.0.0.1', 'localhost');
  await page.goto(`${foreign}/healthz`);
  const responsePromise = page.waitForResponse((r) => r.url() === `${baseURL}/api/sign_out`);
  await page.evaluate((target) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = target;
    document.body.appendChild(form);
    form.submit();
  }, `${baseURL}/api/sign_out`);
  const response = await responsePromise;
  expect(response.status()).toBe(403);
  await page.waitForURL(`${baseURL}/api/sign_out`);
  await expect(page.locator('body')).toContainText('Cross-site request refused');
  // Still signed in: the forged sign-out did nothing.
  await page.goto(`${baseURL}/`);
  await expect(page.getByTestId('welcome')).toBeVisible();
});

test('requests without origin information or from a foreign origin are refused', async ({ request }) => {
  const form = { email: uniqueEmail(), password: PASSWORD };
  const foreign = await request.post('/api/sign_in', {
    form, headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
  });
  expect(foreign.status()).toBe(403);
  const sameOrigin = await request.post('/api/sign_in', { form, headers: { Origin: baseURL } });
  expect(sameOrigin.status()).toBe(401);
});
