// Settings → API keys: Tenant URL, show-once secret, regenerate and revoke, as an admin would.
import { baseURL } from '../playwright.config';
import { expect, open, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

async function scimStatus(request: import('@playwright/test').APIRequestContext, secret: string): Promise<number> {
  const probe = encodeURIComponent('userName eq "6a1f0b6e-0d7c-4bde-9f57-3f9a2c1d4e5f"');
  const res = await request.get(`${baseURL}/scim/v2/Users?filter=${probe}`, { headers: { Authorization: `Bearer ${secret}` } });
  return res.status();
}

test('create, use, regenerate and revoke a key', async ({ page, context, request }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await signUp(page, uniqueEmail());
  await open(page, '/settings/api-keys');
  await expect(page.getByTestId('tenant-url')).toHaveValue(`${baseURL}/scim/v2`);
  await expect(page.getByTestId('no-keys')).toBeVisible();

  await page.getByLabel('Name').fill('Entra ID provisioning');
  await page.getByLabel('Expires').selectOption('90');
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByTestId('secret-dialog');
  await expect(dialog).toContainText("you won't see it again");
  const secret = await page.getByTestId('secret').inputValue();
  expect(secret).toMatch(/^scimpad_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  await page.getByTestId('secret-copy').click();
  await expect(page.getByTestId('secret-copy')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await page.getByTestId('secret-done').click();
  await expect(dialog).toBeHidden();

  const row = page.getByTestId('key-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Entra ID provisioning');
  await expect(row).toHaveAttribute('data-status', 'active');
  await expect(row.getByTestId('key-activity')).toContainText('No request yet');
  await expect(page.locator('body')).not.toContainText(secret);

  // Entra's Test Connection with the key: the page then says when it arrived.
  expect(await scimStatus(request, secret)).toBe(200);
  await expect.poll(async () => {
    await page.reload();
    return page.getByTestId('key-activity').first().textContent();
  }).toContain('last Test Connection');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // Regenerate: explained, confirmed, old key dead at once, new one works.
  await page.getByTestId('regenerate').click();
  await expect(page.getByTestId('confirm-panel')).toContainText('stops working immediately');
  await page.getByTestId('confirm').click();
  await expect(page.getByTestId('secret-dialog')).toBeVisible();
  const renewed = await page.getByTestId('secret').inputValue();
  expect(renewed).not.toBe(secret);
  await page.getByTestId('secret-done').click();
  expect(await scimStatus(request, secret)).toBe(401);
  expect(await scimStatus(request, renewed)).toBe(200);
  await expect(page.locator('[data-testid="key-row"][data-status="revoked"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="key-row"][data-status="active"]')).toHaveCount(1);

  // Revoke the new key.
  await page.locator('[data-testid="key-row"][data-status="active"]').getByTestId('revoke').click();
  await expect(page.getByTestId('confirm-panel')).toContainText('cannot be restored');
  await page.getByTestId('confirm').click();
  await expect(page.locator('[data-testid="key-row"][data-status="revoked"]')).toHaveCount(2);
  expect(await scimStatus(request, renewed)).toBe(401);
});

test('a key needs a name', async ({ page }) => {
  await signUp(page, uniqueEmail());
  await open(page, '/settings/api-keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('error-name')).toContainText('Give the key a name');
  await expect(page.getByTestId('secret-dialog')).toBeHidden();
});

test("Entra's tutorial path: Profile Settings → API key leads an admin to the key and the Tenant URL", async ({ page }) => {
  await signUp(page, uniqueEmail('tutorial'));
  await open(page, '/settings/profile');
  const pointer = page.getByTestId('profile-api-key');
  await expect(pointer).toContainText('Secret Token');
  await expect(pointer).toContainText('Tenant URL');
  await pointer.getByTestId('profile-api-key-link').click();
  await expect(page).toHaveURL(/\/settings\/api-keys$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');
  await expect(page.getByTestId('tenant-url')).toHaveValue(`${baseURL}/scim/v2`);
});
