// Sign up, sign in, sign out and session lifetime, in a real browser.
import { expect, open, PASSWORD, signIn, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

test('sign up, sign out, wrong password, sign in, reload, sign out', async ({ page, context }) => {
  const email = uniqueEmail();
  await signUp(page, email, 'Grace Hopper', 'Fabrikam');
  await expect(page.getByTestId('current-user')).toContainText('Fabrikam');
  await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' })).toBeVisible();

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, email, 'not the password at all');
  await expect(page.getByTestId('form-error')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, email);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('welcome')).toContainText('Grace Hopper');

  await page.reload();
  await expect(page.getByTestId('welcome')).toContainText('Grace Hopper');
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'scimpad');
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Lax');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin$/);

  // The old session id is dead on the server, not just forgotten by the browser.
  await context.addCookies([cookie]);
  await page.goto('/settings/profile');
  await expect(page).toHaveURL(/\/signin$/);
});

test('an unknown email gets the same error as a wrong password', async ({ page }) => {
  await signIn(page, uniqueEmail('nobody'), PASSWORD);
  await expect(page.getByTestId('form-error')).toHaveText('Wrong email or password.');
});

test('sign-up explains what is wrong with the input', async ({ page }) => {
  await open(page, '/signup');
  await page.getByLabel('Organisation name').fill('Initech');
  await page.getByLabel('Your name').fill('Peter');
  await page.getByLabel('Work email').fill('peter-at-initech');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page.getByTestId('error-email')).toContainText('needs an @');

  await page.getByLabel('Work email').fill(uniqueEmail('peter'));
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page.getByTestId('error-password')).toContainText('at least 10 characters');
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
});

test('an email can own only one account', async ({ page, browser }) => {
  const email = uniqueEmail();
  await signUp(page, email);
  const other = await browser.newPage();
  await open(other, '/signup');
  await other.getByLabel('Organisation name').fill('Umbrella');
  await other.getByLabel('Your name').fill('Someone Else');
  await other.getByLabel('Work email').fill(email.toUpperCase());
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Create organisation' }).click();
  await expect(other.getByTestId('form-error')).toContainText('already exists');
  await other.close();
});

test('console pages need a session', async ({ page }) => {
  for (const path of ['/', '/users', '/groups', '/log', '/settings/profile', '/settings/api-keys']) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/signin$/);
  }
});

test('profile: change name and email, change password (other sessions end)', async ({ page, browser }) => {
  const email = uniqueEmail('profile');
  await signUp(page, email, 'Grace Hopper', 'Fabrikam');
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await expect(otherPage.getByTestId('welcome')).toBeVisible();

  await open(page, '/settings/profile');
  await expect(page.getByTestId('role')).toHaveText('Admin');
  const moved = uniqueEmail('moved');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Grace B. Hopper');
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill(moved);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('profile-saved')).toBeVisible();
  await expect(page.getByTestId('profile')).toContainText('Grace B. Hopper');

  await page.getByLabel('Current password').fill('wrong password here');
  await page.getByLabel('New password').fill('a brand new passphrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('error-current_password')).toContainText('not your current password');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();

  // This session lives on; the other one is gone.
  await page.reload();
  await expect(page.getByTestId('role')).toHaveText('Admin');
  await otherPage.goto('/');
  await expect(otherPage).toHaveURL(/\/signin$/);
  await other.close();

  await page.getByTestId('sign-out').click();
  await signIn(page, moved, 'a brand new passphrase');
  await expect(page.getByTestId('welcome')).toContainText('Grace B. Hopper');
});
