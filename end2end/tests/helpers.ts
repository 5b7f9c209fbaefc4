// Shared steps: unique identities per test, hydration-aware navigation, sign-up.
import { expect, Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';

export function uniqueEmail(prefix = 'admin'): string {
  return `${prefix}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Opens `path` and waits until the wasm app has hydrated (clicks before that would be lost). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signUp(page: Page, email: string, name = 'Ada Admin', org = 'Contoso'): Promise<void> {
  await open(page, '/signup');
  await page.getByLabel('Organisation name').fill(org);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('welcome')).toContainText(name);
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await open(page, '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
