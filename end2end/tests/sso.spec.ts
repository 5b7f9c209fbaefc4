// Single sign-on in Chromium against real local identity providers (oidc-provider and samlify,
// on `localhost` while the app is on `127.0.0.1`, so cookies cross sites as in production):
// provisioned through SCIM → SSO lands in the console as that person → SCIM deactivates them →
// their open page is signed out on the next request and SSO is refused → an IdP user nobody
// provisioned is refused. For OIDC, and for SAML both SP- and IdP-initiated.
import { baseURL, oidcIssuer, samlIdp, tenant } from '../playwright.config';
import { APIRequestContext, Browser, PATCH_OP, Page, createKey, entraUser, expect, open, scim, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

const ALICE = 'alice@contoso.example';
const BOB = 'bob@contoso.example';

/** An admin with a key, and Alice provisioned by "Entra"; returns the key, Alice's id and the org's sign-in name. */
async function organisationWithAlice(page: Page, request: APIRequestContext) {
  await signUp(page, uniqueEmail());
  const key = await createKey(page);
  const api = scim(request, key);
  const created = await api.post('/Users', entraUser(ALICE, 'Alice', 'Smith'));
  expect(created.status()).toBe(201);
  await open(page, '/settings/sso');
  const slug = (await page.getByTestId('org-slug').textContent())!;
  return { api, aliceId: (await created.json()).id as string, slug };
}

/** Signs in at the test IdP's login page. */
async function idpLogin(page: Page, username: string, password: string) {
  await expect(page).toHaveTitle(/Test IdP/);
  expect(new URL(page.url()).hostname).toBe('localhost');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#signin').click();
}

/** "Sign in with SSO" from our sign-in page, in a fresh browser (no session anywhere). */
async function ssoFromSignIn(browser: Browser, slug: string, username: string, password: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await open(page, '/signin');
  await page.getByLabel('Work email or organisation sign-in name').fill(slug);
  await page.getByTestId('sso-submit').click();
  await idpLogin(page, username, password);
  return page;
}

async function deactivate(api: ReturnType<typeof scim>, id: string) {
  const res = await api.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
  expect(res.status()).toBe(200);
}

async function expectConsoleAs(page: Page, name: string) {
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByTestId('welcome')).toContainText(name);
}

async function expectRefused(page: Page, text: string) {
  await expect(page.locator('#sso-message')).toContainText(text);
  expect(page.url().startsWith(baseURL)).toBe(true);
}

test('OIDC: a provisioned person signs in; deprovisioning locks them out; strangers are refused', async ({ page, request, browser }) => {
  const { api, aliceId, slug } = await organisationWithAlice(page, request);
  const form = page.getByTestId('oidc-form');
  await expect(page.getByTestId('oidc-redirect-uri')).toHaveValue(`${baseURL}/sso/oidc/callback`);
  await form.getByLabel('Directory (tenant) ID or issuer URL').fill(oidcIssuer);
  await form.getByLabel('Application (client) ID').fill('scimpad-test-client');
  await form.getByLabel('Client secret').fill('scimpad-test-secret');
  await page.getByTestId('oidc-enabled').check();
  await page.getByRole('button', { name: 'Save OIDC' }).click();
  await expect(page.getByTestId('oidc-saved')).toBeVisible();
  await open(page, '/settings/sso');
  await expect(page.getByTestId('oidc-form').getByLabel('Client secret')).toHaveValue('');
  await expect(page.getByTestId('oidc-form')).toContainText('A secret is saved and never shown');

  const alice = await ssoFromSignIn(browser, slug, ALICE, 'alice-pw');
  await expectConsoleAs(alice, 'Alice Smith');

  // Her profile belongs to the IdP: shown, not editable here.
  await open(alice, '/settings/profile');
  await expect(alice.getByTestId('role')).toHaveText('Member');
  await expect(alice.getByTestId('managed-by-idp')).toBeVisible();
  await expect(alice.getByTestId('profile-form')).toHaveCount(0);
  await expect(alice.getByTestId('profile-api-key')).toHaveCount(0); // API keys are admins'

  // A member: no admin navigation, and the admin pages and their server functions refuse her.
  await expect(alice.getByRole('link', { name: 'API keys' })).toHaveCount(0);
  await open(alice, '/settings/api-keys');
  await expect(alice.getByTestId('forbidden')).toBeVisible();
  await open(alice, '/settings/sso');
  await expect(alice.getByTestId('forbidden')).toBeVisible();
  for (const fn of ['list_api_keys', 'sso_settings', 'create_api_key']) {
    const res = await alice.request.post(`${baseURL}/api/${fn}`, { form: { name: 'sneaky' }, headers: { Origin: baseURL } });
    expect(res.status(), fn).toBe(403);
  }

  await deactivate(api, aliceId);
  await alice.goto('/settings/profile');
  await expect(alice).toHaveURL(`${baseURL}/signin`);
  await alice.getByLabel('Work email or organisation sign-in name').fill(slug);
  await alice.getByTestId('sso-submit').click();
  // The IdP remembers Alice, so it answers at once; we refuse her.
  await expectRefused(alice, 'deactivated');

  const bob = await ssoFromSignIn(browser, slug, BOB, 'bob-pw');
  await expectRefused(bob, 'has not given you access');
});

test('SAML: SP- and IdP-initiated sign-in; deprovisioning locks them out; strangers are refused', async ({ page, request, browser }) => {
  const { api, aliceId, slug } = await organisationWithAlice(page, request);
  const entityId = `${baseURL}/sso/saml/${slug}/metadata`;
  const acs = `${baseURL}/sso/saml/${slug}/acs`;
  await expect(page.getByTestId('saml-entity-id')).toHaveValue(entityId);
  await expect(page.getByTestId('saml-acs-url')).toHaveValue(acs);
  const cert = await (await request.get(`${samlIdp}/cert.pem`)).text();

  const form = page.getByTestId('saml-form');
  await form.getByLabel('Microsoft Entra Identifier (IdP entity ID)').fill(`https://sts.windows.net/${tenant}/`);
  await form.getByLabel('Login URL (IdP sign-on URL)').fill(`${samlIdp}/${tenant}/saml2`);
  await page.getByTestId('saml-enabled').check();
  await page.getByRole('button', { name: 'Save SAML' }).click();
  await expect(page.getByTestId('error-certificates')).toContainText('forged');
  await page.getByTestId('saml-certificates').fill(cert);
  await page.getByRole('button', { name: 'Save SAML' }).click();
  await expect(page.getByTestId('saml-saved')).toBeVisible();
  await expect(page.getByTestId('saml-pinned')).toContainText('scimpad-test-idp');
  const metadata = await request.get(entityId);
  expect(await metadata.text()).toContain(`Location="${acs}"`);

  // SP-initiated, from our sign-in page.
  const sp = await ssoFromSignIn(browser, slug, ALICE, 'alice-pw');
  await expectConsoleAs(sp, 'Alice Smith');

  // IdP-initiated, from the IdP's app launcher.
  const launcher = await (await browser.newContext()).newPage();
  await launcher.goto(`${samlIdp}/launch?sp=${encodeURIComponent(entityId)}&acs=${encodeURIComponent(acs)}`);
  await idpLogin(launcher, ALICE, 'alice-pw');
  await expectConsoleAs(launcher, 'Alice Smith');

  await deactivate(api, aliceId);
  await sp.reload();
  await expect(sp).toHaveURL(`${baseURL}/signin`);
  await launcher.goto(`${samlIdp}/launch?sp=${encodeURIComponent(entityId)}&acs=${encodeURIComponent(acs)}`);
  await idpLogin(launcher, ALICE, 'alice-pw');
  await expectRefused(launcher, 'deactivated');

  const bob = await ssoFromSignIn(browser, slug, BOB, 'bob-pw');
  await expectRefused(bob, 'has not given you access');
});

test('"Sign in with SSO" explains an unknown name', async ({ page }) => {
  await open(page, '/signin');
  await page.getByLabel('Work email or organisation sign-in name').fill('no-such-organisation');
  await page.getByTestId('sso-submit').click();
  await expect(page.locator('#sso-message')).toContainText('No organisation signs in with SSO');
});
