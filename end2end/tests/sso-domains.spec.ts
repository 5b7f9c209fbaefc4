// Verified SSO domains in Chromium: an admin adds an email domain, sees the TXT record to create,
// Verify fails with a message naming it, the record is published on the test DNS server that
// Scimpad asks (idp/dns.mjs, through its control endpoint), Verify succeeds, and only then does
// "Sign in with SSO" with an email on that domain go to the organisation's identity provider.
import { APIRequestContext, Browser, Page, expect, open, signUp, test, uniqueEmail } from './helpers';
import { dnsControl, samlIdp, tenant } from '../playwright.config';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

function uniqueDomain(): string {
  return `contoso-${Date.now()}-${Math.floor(Math.random() * 1e6)}.example`;
}

/** Publishes `values` as the TXT records at `name` on the test DNS server. */
async function publish(request: APIRequestContext, name: string, values: string[]) {
  const res = await request.put(`${dnsControl}/txt/${encodeURIComponent(name)}`, { data: { values } });
  expect(res.status()).toBe(204);
}

/** An enabled SAML connection to the test IdP, saved on the SSO settings page. */
async function connectSaml(page: Page, request: APIRequestContext) {
  await open(page, '/settings/sso');
  const form = page.getByTestId('saml-form');
  await form.getByLabel('Microsoft Entra Identifier (IdP entity ID)').fill(`https://sts.windows.net/${tenant}/`);
  await form.getByLabel('Login URL (IdP sign-on URL)').fill(`${samlIdp}/${tenant}/saml2`);
  await page.getByTestId('saml-certificates').fill(await (await request.get(`${samlIdp}/cert.pem`)).text());
  await page.getByTestId('saml-enabled').check();
  await page.getByRole('button', { name: 'Save SAML' }).click();
  await expect(page.getByTestId('saml-saved')).toBeVisible();
}

/** "Sign in with SSO" with `who`, in a fresh browser; returns the page it lands on. */
async function ssoWith(browser: Browser, who: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await open(page, '/signin');
  await page.getByLabel('Work email or organisation sign-in name').fill(who);
  await page.getByTestId('sso-submit').click();
  return page;
}

test('an email domain routes to the identity provider only once its TXT record is verified', async ({ page, request, browser }) => {
  await signUp(page, uniqueEmail());
  await connectSaml(page, request);
  const domain = uniqueDomain();
  const domains = page.getByTestId('domains');
  await expect(domains.getByTestId('no-domains')).toBeVisible();
  await domains.getByLabel('Add a domain').fill(`@${domain.toUpperCase()}`);
  await page.getByTestId('add-domain').click();

  // The record to create, with copy buttons, and the claim pending.
  const claim = page.locator(`[data-testid="domain-claim"][data-domain="${domain}"]`);
  await expect(claim.getByTestId('domain-state')).toHaveText('Pending verification');
  const recordName = `_scimpad-challenge.${domain}`;
  await expect(claim.getByTestId('domain-record-name')).toHaveValue(recordName);
  const recordValue = await claim.getByTestId('domain-record-value').inputValue();
  expect(recordValue).toMatch(/^scimpad-domain-verification=[0-9a-f]{32}$/);
  await expect(claim.getByTestId('domain-record-value-copy')).toBeVisible();

  // Unverified, the domain routes nobody.
  const early = await ssoWith(browser, `alice@${domain}`);
  await expect(early.locator('#sso-message')).toContainText('No organisation signs in with SSO');

  // Verify before the record exists: a clear message, still pending.
  await claim.getByTestId('domain-verify').click();
  const notYet = `No TXT record ${recordValue} found at ${recordName} yet. DNS changes can take a while to appear.`;
  await expect(page.getByTestId('domain-error')).toHaveText(notYet);
  await expect(claim.getByTestId('domain-last-check')).toContainText(notYet);
  await expect(claim.getByTestId('domain-state')).toHaveText('Pending verification');

  // The DNS owner publishes the record: Verify succeeds.
  await publish(request, recordName, ['v=spf1 -all', recordValue]);
  await claim.getByTestId('domain-verify').click();
  await expect(page.getByTestId('domain-verified')).toBeVisible();
  await expect(page.getByTestId('domain-error')).toHaveCount(0);
  await expect(claim.getByTestId('domain-state')).toHaveText(/^Verified on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  await expect(claim.getByTestId('domain-verify')).toHaveCount(0);

  // "Sign in with SSO" with a work email on the domain goes to the organisation's IdP.
  const routed = await ssoWith(browser, `Alice@${domain.toUpperCase()}`);
  await expect(routed).toHaveTitle(/Test IdP/);
  expect(new URL(routed.url()).hostname).toBe('localhost');

  // Removed, it routes nobody again.
  await claim.getByTestId('domain-remove').click();
  await expect(claim).toHaveCount(0);
  const after = await ssoWith(browser, `alice@${domain}`);
  await expect(after.locator('#sso-message')).toContainText('No organisation signs in with SSO');
});

test('domains are added and verified without JavaScript too', async ({ page, request, browser }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Fabrikam');
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noJs.newPage();
  await plain.goto('/settings/sso');
  const domain = uniqueDomain();
  await plain.getByTestId('domains').getByLabel('Add a domain').fill(domain);
  await plain.getByTestId('add-domain').click();
  // The server function answers a plain form post by sending the browser back to the page.
  await expect(plain).toHaveURL(/\/settings\/sso\??$/);
  const claim = plain.locator(`[data-testid="domain-claim"][data-domain="${domain}"]`);
  await expect(claim.getByTestId('domain-state')).toHaveText('Pending verification');
  await publish(request, `_scimpad-challenge.${domain}`, [await claim.getByTestId('domain-record-value').inputValue()]);
  await claim.getByTestId('domain-verify').click();
  await expect(plain).toHaveURL(/\/settings\/sso\??$/);
  await expect(plain.locator(`[data-domain="${domain}"]`).getByTestId('domain-state')).toHaveText(/^Verified on /);
  await noJs.close();
});
