// Issue 16: every console page at a phone's, a tablet's and a laptop's width (390, 768 and
// 1280 px), in the light and the dark palette: the page never scrolls sideways and nothing
// reaches past the window, axe-core finds no violation, and a full-page screenshot of each is
// kept with the test's results (not committed baselines) for a reviewer to look at:
// end2end/test-results/<sqlite|postgres>/<test>/<page>-<width>-<scheme>.png. Dialogs and the
// small screens' menu are checked open.
//
// axe runs all its rules in the light palette and colour contrast in the dark one (the palettes
// differ in nothing else), at 390 and 1280 px: the small screens' layout and the wide one, which
// 768 px shares. (Half a second a run, mostly injecting axe: not at every width.)
import type { TestInfo } from '@playwright/test';
import { mailBaseURL } from '../playwright.config';
import { Page, expect, open, test } from './helpers';
import { Seeded, Session, WIDTHS, expandAll, expectAxeClean, expectFits, seededSession } from './page-checks';

let seeded: Seeded;
let session: Session;

test.beforeAll(async ({ browser }) => {
  ({ seeded, session } = await seededSession(browser));
});

/** Something to check on a page, open at the given widths. */
interface State {
  name: string;
  enter: (page: Page) => Promise<void>;
  leave: (page: Page) => Promise<void>;
  widths?: readonly number[];
}

interface Visit {
  name: string;
  path: () => string;
  signedIn: boolean;
  /** Pages the server renders without the console's wasm (the SSO end pages) never hydrate. */
  hydrates?: boolean;
  states?: State[];
}

const newKeyDialog: State = {
  name: "the new key's dialog",
  enter: async (page) => {
    await page.getByLabel('Name').fill('Entra ID provisioning, second tenant');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page.getByTestId('secret-dialog')).toBeVisible();
  },
  leave: async (page) => {
    await page.getByTestId('secret-done').click();
    await expect(page.getByTestId('secret-dialog')).toBeHidden();
  },
};

/** A confirmation dialog that the first `opener` button opens and Escape closes. */
function confirmation(name: string, opener: string, dialog: string): State {
  return {
    name,
    enter: async (page) => {
      await page.getByTestId(opener).first().click();
      await expect(page.getByTestId(dialog)).toBeVisible();
    },
    leave: async (page) => {
      await page.keyboard.press('Escape');
      await expect(page.getByTestId(dialog)).toBeHidden();
    },
  };
}

const revokeDialog = confirmation('the revoke confirmation', 'revoke', 'confirm-panel');
const roleDialog = confirmation('the role confirmation', 'change-role', 'role-confirm');

const menu: State = {
  name: 'the menu',
  widths: [390],
  enter: async (page) => {
    await page.getByTestId('menu').click();
    await expect(page.getByRole('navigation', { name: 'Console' })).toBeVisible();
  },
  leave: async (page) => {
    await page.keyboard.press('Escape');
    await expect(page.getByRole('navigation', { name: 'Console' })).toBeHidden();
  },
};

const PAGES: Visit[] = [
  { name: 'dashboard', path: () => '/', signedIn: true, states: [menu] },
  { name: 'users', path: () => '/users', signedIn: true },
  { name: 'user', path: () => `/users/${seeded.userId}`, signedIn: true, states: [roleDialog] },
  { name: 'groups', path: () => '/groups', signedIn: true },
  { name: 'group', path: () => `/groups/${seeded.groupId}`, signedIn: true },
  { name: 'provisioning log', path: () => '/log', signedIn: true },
  { name: 'audit log', path: () => '/audit', signedIn: true },
  { name: 'profile', path: () => '/settings/profile', signedIn: true },
  { name: 'API keys', path: () => '/settings/api-keys', signedIn: true, states: [newKeyDialog, revokeDialog] },
  { name: 'single sign-on', path: () => '/settings/sso', signedIn: true },
  { name: 'sign in', path: () => '/signin', signedIn: false },
  { name: 'sign up', path: () => '/signup', signedIn: false },
  { name: 'forgot password', path: () => `${mailBaseURL}/forgot-password`, signedIn: false },
  { name: 'reset password, used link', path: () => '/reset-password?token=used', signedIn: false },
  { name: 'confirm email, used link', path: () => '/confirm-email?token=used', signedIn: false },
  { name: 'invitation, used link', path: () => '/invitation?token=used', signedIn: false },
  { name: 'page not found', path: () => '/no-such-page', signedIn: false },
  { name: 'SSO refusal', path: () => '/sso/start?who=nobody.example', signedIn: false, hydrates: false },
];

/** The widths axe runs at. */
const AXE_WIDTHS: readonly number[] = [390, 1280];

/** Fits at every width in `widths`, has no axe violation, and leaves a screenshot of each. */
async function checkAt(page: Page, testInfo: TestInfo, label: string, widths: readonly number[]): Promise<void> {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  await page.emulateMedia({ colorScheme: 'light' });
  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    await expectFits(page, `${label} at ${width} px`);
  }
  // Then with every disclosure open: their contents must fit too, and axe checks them.
  await expandAll(page);
  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    await expectFits(page, `${label} at ${width} px, expanded`);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      if (AXE_WIDTHS.includes(width)) {
        await expectAxeClean(page, `${label} at ${width} px, ${scheme}`, scheme === 'dark' ? ['color-contrast'] : undefined);
      }
      await page.screenshot({ path: testInfo.outputPath(`${slug}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

for (const visit of PAGES) {
  test(`${visit.name}: fits 390, 768 and 1280 px, light and dark, axe-clean`, async ({ browser }, testInfo) => {
    const context = await browser.newContext(visit.signedIn ? { storageState: session } : {});
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    if (visit.hydrates === false) {
      await page.goto(visit.path());
    } else {
      await open(page, visit.path());
    }
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await checkAt(page, testInfo, visit.name, WIDTHS);
    for (const state of visit.states ?? []) {
      const widths = state.widths ?? WIDTHS;
      await page.setViewportSize({ width: widths[0], height: 800 });
      await state.enter(page);
      await checkAt(page, testInfo, `${visit.name} with ${state.name}`, widths);
      await state.leave(page);
    }
    expect(errors, 'errors on the page').toEqual([]);
    await context.close();
  });
}

test('the palette follows the system: light, or dark with color-scheme dark', async ({ page }) => {
  await open(page, '/signin');
  const colours = () => page.evaluate(() => ({
    background: getComputedStyle(document.body).backgroundColor,
    text: getComputedStyle(document.body).color,
    scheme: getComputedStyle(document.documentElement).colorScheme,
  }));
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await colours()).toEqual({ background: 'rgb(246, 247, 249)', text: 'rgb(29, 35, 48)', scheme: 'light dark' });
  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await colours()).toEqual({ background: 'rgb(15, 18, 24)', text: 'rgb(230, 233, 239)', scheme: 'light dark' });
});
