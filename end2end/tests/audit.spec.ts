// The admin audit log, as an admin finds out who regenerated the key that broke provisioning:
// real sign-ins, key changes and a failed sign-in from another browser, shown with who, when,
// from where and with which browser; filtered by event and by who; with and without JavaScript.
import { expect, open, PASSWORD, signIn, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

test('who regenerated the key, and when', async ({ page, browser }) => {
  const email = uniqueEmail('audit');
  await signUp(page, email, 'Ada Admin', 'Northwind');

  // A key is created and later regenerated (the old one stops working: provisioning breaks).
  await open(page, '/settings/api-keys');
  await page.getByLabel('Name').fill('Entra ID provisioning');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('secret-done').click();
  await page.getByTestId('regenerate').click();
  await page.getByTestId('confirm').click();
  await page.getByTestId('secret-done').click();

  // Someone elsewhere tries the admin's email with a wrong password.
  const elsewhere = await browser.newContext({ userAgent: 'Mallory/1.0 (guessing)' });
  const guesser = await elsewhere.newPage();
  await signIn(guesser, email, `${PASSWORD} but wrong`);
  await expect(guesser.getByTestId('form-error')).toHaveText('Wrong email or password.');
  await elsewhere.close();

  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toHaveAttribute('data-kind', 'sign_in_failed');
  await expect(rows.first().getByTestId('audit-user-agent')).toHaveText('Mallory/1.0 (guessing)');
  await expect(rows.first().getByTestId('audit-from')).toContainText('127.0.0.1');

  const regenerated = page.locator('[data-testid="audit-row"][data-kind="api_key_regenerated"]');
  await expect(regenerated).toHaveCount(1);
  await expect(regenerated.getByTestId('audit-kind')).toHaveText('API key regenerated');
  await expect(regenerated.getByTestId('audit-actor')).toHaveText(`Ada Admin <${email}>`);
  await expect(regenerated.getByTestId('audit-detail')).toContainText('Entra ID provisioning');
  await expect(regenerated.getByTestId('audit-detail')).toContainText('the old key stopped working');
  await expect(regenerated.getByTestId('audit-user-agent')).toContainText('Chrome');
  await expect(regenerated.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  for (const kind of ['organization_created', 'api_key_created']) {
    await expect(page.locator(`[data-testid="audit-row"][data-kind="${kind}"]`)).toHaveCount(1);
  }

  // Filter by event.
  await page.getByLabel('Event').selectOption('api_key_regenerated');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/[?&]kind=api_key_regenerated/);
  await expect(rows).toHaveCount(1);
  await expect(page.getByLabel('Event')).toHaveValue('api_key_regenerated');

  // Filter by who: nobody else acted here.
  await page.getByLabel('Event').selectOption('');
  await page.getByLabel('Who').fill('someone else');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByTestId('audit-empty')).toHaveText('No events match these filters.');

  // Without JavaScript, the same GET form filters the same rows.
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noJs.newPage();
  await plain.goto('/audit');
  await plain.getByLabel('Event').selectOption('sign_in_failed');
  await plain.getByRole('button', { name: 'Apply filters' }).click();
  await expect(plain).toHaveURL(/[?&]kind=sign_in_failed/);
  await expect(plain.getByTestId('audit-row')).toHaveCount(1);
  await expect(plain.getByTestId('audit-actor')).toHaveText(`Ada Admin <${email}>`);
  await noJs.close();
});

test('signing out and in again are recorded, newest first', async ({ page }) => {
  const email = uniqueEmail('signout');
  await signUp(page, email);
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin$/);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/$/);
  await open(page, '/audit');
  const kinds = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
  expect(kinds).toEqual(['sign_in', 'sign_out', 'organization_created']);
});
