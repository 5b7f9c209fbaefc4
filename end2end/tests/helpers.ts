// Shared steps: unique identities per test, hydration-aware navigation, sign-up — and the `test`
// every spec uses, which fails a test when any page of ours reported a Content-Security-Policy
// violation (a blocked script, style, connection or form), so a policy that breaks the console
// anywhere fails the suite instead of leaving a page silently unhydrated.
import { APIRequestContext, Browser, BrowserContext, BrowserContextOptions, test as base, expect, Page } from '@playwright/test';
import { baseURL, mailBaseURL, smtpControl } from '../playwright.config';

export { expect };
export type { APIRequestContext, Browser, Page };

/** Reports every `securitypolicyviolation` on our origin's pages in `context` into `violations`. */
async function watchCsp(context: BrowserContext, violations: string[]): Promise<void> {
  await context.exposeBinding('reportCspViolation', ({ page }, text: string) => {
    violations.push(`${page.url()}: ${text}`);
  });
  await context.addInitScript((origins: string[]) => {
    document.addEventListener('securitypolicyviolation', (e) => {
      if (!origins.includes(location.origin)) return; // the test identity providers' pages are not ours
      const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
      report(`${e.effectiveDirective} refused ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  }, [new URL(baseURL).origin, new URL(mailBaseURL).origin]);
}

/**
 * Playwright's `test` with an automatic `cspViolations` fixture: it watches the test's own
 * context and every context the test opens with `browser.newContext()`, and fails the test if any
 * violation was recorded. A test that provokes one on purpose empties the list after checking it.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [async ({ browser, context }, use) => {
    const violations: string[] = [];
    await watchCsp(context, violations);
    const newContext = browser.newContext;
    browser.newContext = async (options?: BrowserContextOptions) => {
      const created = await newContext.call(browser, options);
      await watchCsp(created, violations);
      return created;
    };
    try {
      await use(violations);
    } finally {
      browser.newContext = newContext;
    }
    expect(violations, 'Content-Security-Policy violations').toEqual([]);
  }, { auto: true }],
});

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

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
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Creates an API key in Settings → API keys and returns its secret. */
export async function createKey(page: Page): Promise<string> {
  await open(page, '/settings/api-keys');
  await page.getByLabel('Name').fill('Entra');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = await page.getByTestId('secret').inputValue();
  await page.getByTestId('secret-done').click();
  return secret;
}

/** A SCIM client acting as Entra's provisioning service with `secret`. */
export function scim(request: APIRequestContext, secret: string) {
  const headers = { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/scim+json' };
  return {
    post: (path: string, data: unknown) => request.post(`${baseURL}/scim/v2${path}`, { headers, data }),
    patch: (path: string, data: unknown) => request.patch(`${baseURL}/scim/v2${path}`, { headers, data }),
    get: (path: string) => request.get(`${baseURL}/scim/v2${path}`, { headers }),
    delete: (path: string) => request.delete(`${baseURL}/scim/v2${path}`, { headers }),
  };
}

/** An Entra-shaped SCIM user. */
export function entraUser(userName: string, given: string, family: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    userName, externalId: userName.split('@')[0], active: true, displayName: `${given} ${family}`,
    emails: [{ primary: true, type: 'work', value: userName }], name: { givenName: given, familyName: family },
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Research', employeeNumber: '42' },
  };
}

/** An email the test SMTP server received (end2end/idp/smtp.mjs). */
export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

/** Waits (up to ten seconds) for an email to `to` whose subject contains `subject`; the latest. */
export async function mailTo(to: string, subject: string): Promise<Mail> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${smtpControl}/messages?to=${encodeURIComponent(to)}`);
    const found = ((await res.json()) as Mail[]).filter((m) => m.subject.includes(subject));
    if (found.length > 0) return found[found.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no email "${subject}" to ${to}`);
}

/** The link to `path` (e.g. `/reset-password`) in `mail`. */
export function linkIn(mail: Mail, path: string): string {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith('http') && word.includes(`${path}?token=`));
  if (!link) throw new Error(`no ${path} link in ${mail.text}`);
  return link;
}
