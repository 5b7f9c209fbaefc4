// Issue 16: the console with a keyboard alone. Every control of every page is reached with Tab
// and shows where focus is; the navigation (sidebar, or the small screens' menu) works with Tab,
// Enter and Escape; dialogs take focus, keep Tab inside, close with Escape and give focus back
// to what opened them — except the new key's dialog, which Escape does not close, and which
// says why.
import { Page, expect, open, test } from './helpers';
import { Seeded, Session, seededSession } from './page-checks';

let seeded: Seeded;
let session: Session;

test.beforeAll(async ({ browser }) => {
  ({ seeded, session } = await seededSession(browser));
});

/** A page signed in as the seeded admin, failing the test on any error it reports. */
async function signedIn(browser: import('@playwright/test').Browser, width = 1280): Promise<Page> {
  const context = await browser.newContext({ storageState: session, viewport: { width, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => { throw err; });
  return page;
}

/** The focused element, described (tag, test id or text), and whether its focus is visible. */
async function focused(page: Page): Promise<{ what: string; ring: boolean; inDialog: string | null }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', ring: false, inDialog: null };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    const shadow = style.boxShadow !== 'none';
    const label = el.getAttribute('data-testid') ?? el.getAttribute('aria-label') ?? (el.textContent ?? '').trim().slice(0, 40);
    return {
      what: `${el.tagName.toLowerCase()} ${label}`.trim(),
      ring: el.matches(':focus-visible') && (outline || shadow),
      inDialog: el.closest('dialog')?.getAttribute('data-testid') ?? null,
    };
  });
}

/** Presses `key` until `target` has focus (at most `max` times), each stop showing its focus. */
async function tabTo(page: Page, target: ReturnType<Page['locator']>, key = 'Tab', max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    if (now.what !== 'body') expect(now.ring, `focus on ${now.what} is visible`).toBe(true);
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`${max} × ${key} never reached ${target}`);
}

/** Tab and Shift+Tab, `presses` times each, never leave the dialog `testid`. */
async function expectTabStaysIn(page: Page, testid: string, presses: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < presses; i++) {
      await page.keyboard.press(key);
      const now = await focused(page);
      expect(now.inDialog, `${key} ${i + 1}: focus on ${now.what}`).toBe(testid);
      expect(now.ring, `focus on ${now.what} is visible`).toBe(true);
      seen.add(now.what);
    }
  }
  return seen;
}

test('navigation, the new key dialog and confirmations with the keyboard alone', async ({ browser }) => {
  const page = await signedIn(browser);
  await open(page, '/');

  // The first Tab reaches the skip link, which jumps over the navigation.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();

  // Back into the navigation, to the API keys.
  const nav = page.getByRole('navigation', { name: 'Console' });
  await tabTo(page, nav.getByRole('link', { name: 'API keys' }), 'Shift+Tab');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/settings\/api-keys$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');

  // Create a key: the dialog takes focus and keeps Tab inside.
  await page.locator('body').focus();
  await tabTo(page, page.getByLabel('Name', { exact: true }));
  await page.keyboard.type('Keyboard only');
  await tabTo(page, page.getByRole('button', { name: 'Create key' }));
  await page.keyboard.press('Enter');
  const secret = page.getByTestId('secret-dialog');
  await expect(secret).toBeVisible();
  expect((await focused(page)).inDialog).toBe('secret-dialog');
  const stops = await expectTabStaysIn(page, 'secret-dialog', 5);
  expect([...stops].sort()).toEqual(['button secret-copy', 'button secret-done', 'input secret']);

  // Escape does not close it, and it says why; "I have copied it" does, and focus goes back.
  await page.keyboard.press('Escape');
  await expect(secret).toBeVisible();
  await expect(page.getByTestId('secret-dialog-escape')).toContainText('shown only once');
  await tabTo(page, page.getByTestId('secret-done'));
  await page.keyboard.press('Enter');
  await expect(secret).toBeHidden();
  await expect(page.getByRole('button', { name: 'Create key' })).toBeFocused();

  // Revoke asks first: focus starts on Cancel, Tab stays inside, Escape cancels and returns focus.
  const row = page.getByTestId('key-row').filter({ hasText: 'Keyboard only' });
  const revoke = row.getByTestId('revoke');
  await tabTo(page, revoke, 'Shift+Tab');
  await page.keyboard.press('Space');
  const confirm = page.getByTestId('confirm-panel');
  await expect(confirm).toBeVisible();
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  expect([...await expectTabStaysIn(page, 'confirm-panel', 3)].sort()).toEqual(['button Cancel', 'button confirm'].sort());
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(revoke).toBeFocused();
  await expect(row).toHaveAttribute('data-status', 'active');

  // And confirmed from the keyboard, it revokes.
  await page.keyboard.press('Enter');
  await expect(confirm).toBeVisible();
  await tabTo(page, confirm.getByTestId('confirm'));
  await page.keyboard.press('Enter');
  await expect(confirm).toBeHidden();
  await expect(row).toHaveAttribute('data-status', 'revoked');

  // A person's role change, from their page: Escape cancels and focus returns to the button.
  await open(page, `/users/${seeded.userId}`);
  const change = page.getByTestId('change-role');
  await page.locator('body').focus();
  await tabTo(page, change);
  await page.keyboard.press('Enter');
  const roleConfirm = page.getByTestId('role-confirm');
  await expect(roleConfirm).toBeVisible();
  await expect(roleConfirm).toHaveAttribute('role', 'alertdialog');
  await expectTabStaysIn(page, 'role-confirm', 3);
  await page.keyboard.press('Escape');
  await expect(roleConfirm).toBeHidden();
  await expect(change).toBeFocused();
  await expect(page.getByTestId('role')).toHaveText('Member');
});

test("the small screens' menu with the keyboard alone", async ({ browser }) => {
  const page = await signedIn(browser, 390);
  await open(page, '/');
  const nav = page.getByRole('navigation', { name: 'Console' });
  const menu = page.getByTestId('menu');
  await expect(nav).toBeHidden();

  // Skip link, then the menu button; Enter opens the menu, Escape closes it and focus stays.
  await tabTo(page, menu);
  await page.keyboard.press('Enter');
  await expect(nav).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(nav).toBeHidden();
  await expect(menu).toBeFocused();

  // Open again, Tab into it and follow a link: the page changes and the menu closes.
  await page.keyboard.press('Enter');
  await tabTo(page, nav.getByRole('link', { name: 'Groups' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/groups$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Groups');
  await expect(nav).toBeHidden();
});

/** The pages whose every control must be reachable by Tab. */
const PAGES = ['/', '/users', '/users/:user', '/groups', '/groups/:group', '/log', '/audit', '/settings/profile',
  '/settings/api-keys', '/settings/sso'];

test('every control of every console page is reached by Tab and shows its focus', async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await signedIn(browser);
  const visits: [string, Page][] = PAGES.map((p) => [p.replace(':user', seeded.userId).replace(':group', seeded.groupId), page]);
  const signedOut = await browser.newPage();
  visits.push(['/signin', signedOut], ['/signup', signedOut]);
  for (const [path, tab] of visits) {
    await open(tab, path);
    // Every disclosure open, so the controls inside count too.
    await tab.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    const controls = await tab.evaluate(() => {
      const all = Array.from(document.querySelectorAll<HTMLElement>(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]'));
      const reachable = all.filter((el) => !el.matches(':disabled, [tabindex="-1"]') && el.checkVisibility()
        && !el.closest('[inert], dialog:not([open])'));
      // Of a radio group, Tab reaches one: the checked one.
      const radios = reachable.filter((el) => el instanceof HTMLInputElement && el.type === 'radio');
      const tabbable = reachable.filter((el) => !radios.includes(el) || (el as HTMLInputElement).checked);
      tabbable.forEach((el, i) => el.setAttribute('data-tab-stop', String(i)));
      return tabbable.length;
    });
    expect(controls, `${path}: controls`).toBeGreaterThan(0);
    const reached = new Set<string>();
    await tab.locator('body').focus();
    for (let i = 0; i < controls + 10 && reached.size < controls; i++) {
      await tab.keyboard.press('Tab');
      const stop = await tab.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          index: el.getAttribute('data-tab-stop'),
          what: `${el.tagName.toLowerCase()} ${(el.textContent ?? '').trim().slice(0, 30)}`,
          ring: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
      });
      if (stop.index === null) continue;
      expect(stop.ring, `${path}: focus on ${stop.what} is visible`).toBe(true);
      reached.add(stop.index);
    }
    const missed = await tab.evaluate((seen) => Array.from(document.querySelectorAll<HTMLElement>('[data-tab-stop]'))
      .filter((el) => !seen.includes(el.getAttribute('data-tab-stop')!))
      .map((el) => `${el.tagName.toLowerCase()} ${(el.textContent ?? el.getAttribute('name') ?? '').trim().slice(0, 30)}`), [...reached]);
    expect(missed, `${path}: controls Tab never reached`).toEqual([]);
  }
});
