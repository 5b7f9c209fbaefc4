// Email that works (issue 13): address confirmation, "Forgot password?" and inviting password
// admins, read from a real SMTP server (end2end/idp/smtp.mjs) and followed in Chromium, on the app
// instance that has an SMTP relay; and what the embedded default (no relay) says instead.
import { mailBaseURL } from '../playwright.config';
import { PASSWORD, expect, linkIn, mailTo, open, signIn, signUp, test, uniqueEmail } from './helpers';

const NEW_PASSWORD = 'a brand new passphrase';

test.describe('with an SMTP relay', () => {
  test.use({ baseURL: mailBaseURL });

  test('sign-up asks to confirm the address, and the emailed link confirms it', async ({ page }) => {
    const email = uniqueEmail('confirm');
    await signUp(page, email);
    await expect(page.getByTestId('confirm-banner')).toContainText(email);
    const mail = await mailTo(email, 'Confirm your email address');

    await page.goto(linkIn(mail, '/confirm-email'));
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await expect(page.getByTestId('email-confirmed')).toBeVisible();

    await open(page, '/settings/profile');
    await expect(page.getByTestId('address-status')).toHaveText('(confirmed)');
    await expect(page.getByTestId('confirm-banner')).toHaveCount(0);
  });

  test('forgot password: the emailed link sets a new password, signs in and ends the other sessions', async ({ browser, page }) => {
    const email = uniqueEmail('reset');
    await signUp(page, email); // this browser stays signed in, until the reset

    const other = await browser.newContext();
    const visitor = await other.newPage();
    await open(visitor, '/signin');
    await visitor.getByTestId('forgot-password').click();
    await expect(visitor).toHaveURL(/\/forgot-password$/);
    await expect(visitor.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await visitor.getByLabel('Email').fill(email);
    await visitor.getByRole('button', { name: 'Send the link' }).click();
    await expect(visitor.getByTestId('reset-sent')).toBeVisible();

    const link = linkIn(await mailTo(email, 'Reset your Scimpad password'), '/reset-password');
    await visitor.goto(link);
    await expect(visitor.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(visitor.getByTestId('reset-email')).toHaveText(email);
    await visitor.getByLabel('New password').fill('short');
    await visitor.getByRole('button', { name: 'Set password and sign in' }).click();
    await expect(visitor.getByTestId('error-password')).toContainText('at least 10 characters');
    await visitor.getByLabel('New password').fill(NEW_PASSWORD);
    await visitor.getByRole('button', { name: 'Set password and sign in' }).click();
    await expect(visitor).toHaveURL(/\/$/);
    await expect(visitor.getByTestId('welcome')).toBeVisible();

    // The session that was open before the reset has ended.
    await page.goto('/settings/profile');
    await expect(page).toHaveURL(/\/signin$/);
    // The old password no longer works; the new one does.
    await signIn(page, email, PASSWORD);
    await expect(page.getByTestId('form-error')).toContainText('Wrong email or password');
    await signIn(page, email, NEW_PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    // The link worked once.
    await visitor.goto(link);
    await expect(visitor.getByTestId('link-gone')).toBeVisible();
    await other.close();
  });

  test('an admin invites a password admin, who accepts in another browser', async ({ browser, page }) => {
    const admin = uniqueEmail('inviter');
    await signUp(page, admin);
    await page.goto(linkIn(await mailTo(admin, 'Confirm your email address'), '/confirm-email'));
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await expect(page.getByTestId('email-confirmed')).toBeVisible();

    const invitee = uniqueEmail('grace');
    await open(page, '/users');
    await page.getByTestId('invitations-card').locator('summary').click();
    await page.getByLabel('Their name').fill('Grace Hopper');
    await page.getByLabel('Their email').fill(invitee);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect(page.getByTestId('invite-sent')).toBeVisible();
    await expect(page.getByTestId('invitation-row')).toContainText(invitee);

    const other = await browser.newContext();
    const guest = await other.newPage();
    await guest.goto(linkIn(await mailTo(invitee, 'invites you to administer'), '/invitation'));
    await expect(guest.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(guest.getByTestId('invitation-offer')).toContainText(invitee);
    await expect(guest.getByLabel('Your name')).toHaveValue('Grace Hopper');
    await guest.getByLabel('Password').fill(NEW_PASSWORD);
    await guest.getByRole('button', { name: 'Accept and sign in' }).click();
    await expect(guest).toHaveURL(/\/$/);
    await expect(guest.getByTestId('welcome')).toContainText('Grace Hopper');
    await expect(guest.getByRole('link', { name: 'Users' })).toBeVisible(); // an admin's navigation
    await other.close();

    await open(page, '/users');
    await page.getByTestId('invitations-card').locator('summary').click();
    await expect(page.getByTestId('no-invitations')).toBeVisible();
  });
});

test.describe('without an SMTP relay (the embedded default)', () => {
  test('the console says email is off, and who can reset a password instead', async ({ page }) => {
    const email = uniqueEmail('nomail');
    await signUp(page, email);
    await expect(page.getByTestId('confirm-banner')).toHaveCount(0);
    await open(page, '/settings/profile');
    await expect(page.getByTestId('mail-off')).toContainText('scimpad user set-password');
    await open(page, '/users');
    await page.getByTestId('invitations-card').locator('summary').click();
    await expect(page.getByTestId('invite-off')).toContainText('--smtp-url');

    await page.getByTestId('sign-out').click();
    await expect(page).toHaveURL(/\/signin$/);
    await open(page, '/forgot-password');
    await expect(page.getByTestId('mail-off')).toContainText('sends no email');
  });
});
