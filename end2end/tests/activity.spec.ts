// The provisioning log, its activity chart and the dashboard, fed by real SCIM requests made with
// a key created through the console's own server function.
import { baseURL } from '../playwright.config';
import { APIRequestContext, expect, open, Page, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

const SCIM_JSON = 'application/scim+json';

async function createKey(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post('/api/create_api_key', {
    form: { name },
    headers: { Origin: baseURL, Accept: 'application/json' },
  });
  expect(res.status()).toBe(200);
  const { secret } = await res.json();
  expect(secret).toMatch(/^scimpad_/);
  return secret;
}

async function scim(request: APIRequestContext, secret: string, method: string, path: string, data?: object): Promise<number> {
  const res = await request.fetch(`${baseURL}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${secret}`, 'Content-Type': SCIM_JSON, Accept: SCIM_JSON },
    data,
  });
  return res.status();
}

function user(userName: string): object {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    active: true,
    name: { givenName: userName.split('@')[0], familyName: 'Test' },
    emails: [{ value: userName, type: 'work', primary: true }],
  };
}

/** Reopens `url` until the (batched) log writer has stored `count` rows, then waits for hydration. */
async function waitForRows(page: Page, url: string, count: number): Promise<void> {
  await expect.poll(async () => {
    await page.goto(url);
    return page.getByTestId('log-row').count();
  }).toBe(count);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

async function statuses(page: Page): Promise<string[]> {
  return page.getByTestId('log-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status') ?? ''));
}

test('SCIM requests show up in the log, the chart and the dashboard', async ({ page, browser }) => {
  await signUp(page, uniqueEmail());
  const secret = await createKey(page.request, 'e2e');

  // Before any request: the empty state says what to do, and the checklist has one tick.
  await open(page, '/log');
  await expect(page.getByTestId('log-empty')).toContainText('No SCIM requests yet');
  await open(page, '/');
  await expect(page.getByTestId('check-key')).toHaveAttribute('data-done', 'true');
  await expect(page.getByTestId('check-request')).toHaveAttribute('data-done', 'false');
  await expect(page.getByTestId('check-user')).toHaveAttribute('data-done', 'false');

  // Entra's Test Connection probe, three creates, a duplicate, and a wrong secret of this org's key.
  const probe = encodeURIComponent('userName eq "6a1f0b6e-0d7c-4bde-9f57-3f9a2c1d4e5f"');
  expect(await scim(page.request, secret, 'GET', `/Users?filter=${probe}`)).toBe(200);
  const names = ['alice', 'bob', 'carol'].map((n) => uniqueEmail(n));
  for (const name of names) {
    expect(await scim(page.request, secret, 'POST', '/Users', user(name))).toBe(201);
  }
  expect(await scim(page.request, secret, 'POST', '/Users', user(names[0]))).toBe(409);
  const last = secret.slice(-1);
  const wrong = secret.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  expect(await scim(page.request, wrong, 'GET', '/Users')).toBe(401);

  // Newest first; errors stand out with their SCIM details.
  await waitForRows(page, '/log', 6);
  expect(await statuses(page)).toEqual(['401', '409', '201', '201', '201', '200']);
  const rows = page.getByTestId('log-row');
  const conflict = rows.nth(1);
  await expect(conflict).toHaveClass(/error/);
  await expect(conflict.getByTestId('log-status')).toContainText('409 uniqueness');
  await conflict.locator('summary').click();
  await expect(conflict.locator('dl')).toBeVisible();
  await expect(conflict.locator('dl')).toContainText('uniqueness');
  await expect(conflict.locator('dl')).toContainText('/scim/v2/Users');
  const refused = rows.nth(0);
  await expect(refused).toHaveClass(/error/);
  await refused.locator('summary').click();
  await expect(refused.locator('dl')).toContainText('e2e');
  await expect(rows.nth(2)).not.toHaveClass(/error/);
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 1–6 of 6');

  // The chart: bars for successes and errors, and the same numbers in words. The chart and the
  // rows are separate reads of one page, so a page rendered as the last log batch committed can
  // show the rows with it and the chart without it; the next load shows both.
  await expect.poll(async () => {
    await page.goto('/log');
    return page.getByTestId('chart-hourly').locator('desc').textContent();
  }).toContain('6 requests, 2 failed.');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  for (const id of ['chart-hourly', 'chart-daily']) {
    const chart = page.getByTestId(id);
    await expect(chart.locator('rect.bar-ok').first()).toBeAttached();
    await expect(chart.locator('rect.bar-error').first()).toBeAttached();
    await expect(chart.locator('desc')).toContainText('6 requests, 2 failed.');
  }

  // Filtering is a navigation: the URL carries it, and Back undoes it.
  await page.getByLabel('Result').selectOption('error');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/[?&]result=error/);
  await expect(page.getByTestId('log-row')).toHaveCount(2);
  expect(await statuses(page)).toEqual(['401', '409']);
  await expect(page.getByLabel('Result')).toHaveValue('error');
  await page.goBack();
  await expect(page).toHaveURL(/\/log$/);
  await expect(page.getByTestId('log-row')).toHaveCount(6);

  // A shared link shows the same rows; a filter that matches nothing says so.
  await open(page, '/log?result=success&operation=create');
  expect(await statuses(page)).toEqual(['201', '201', '201']);
  await open(page, '/log?operation=delete');
  await expect(page.getByTestId('log-empty')).toContainText('No requests match these filters');

  // Without JavaScript the filter form is a plain GET form and still works.
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noJs.newPage();
  await plain.goto('/log');
  await plain.getByLabel('Result').selectOption('error');
  await plain.getByRole('button', { name: 'Apply filters' }).click();
  await expect(plain).toHaveURL(/[?&]result=error/);
  await expect(plain.getByTestId('log-row')).toHaveCount(2);
  await noJs.close();

  // The dashboard counts what Entra provisioned and ticks the whole checklist.
  await open(page, '/');
  await expect(page.getByTestId('welcome')).toBeVisible();
  await expect(page.getByTestId('stat-active-users')).toHaveText('3');
  await expect(page.getByTestId('stat-deactivated-users')).toHaveText('0');
  await expect(page.getByTestId('stat-groups')).toHaveText('0');
  await expect(page.getByTestId('errors-24h')).toContainText('2');
  await expect(page.getByTestId('last-success')).toContainText('UTC');
  for (const step of ['check-key', 'check-request', 'check-user']) {
    await expect(page.getByTestId(step)).toHaveAttribute('data-done', 'true');
  }
});
