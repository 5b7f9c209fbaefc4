// "Export CSV" on the Users page and the provisioning log: "Entra" (this test, over HTTP)
// provisions people, the admin filters the page, clicks Export and gets a file holding exactly
// the rows the filters select, as a spreadsheet would read them.
import * as fs from 'fs';
import { createKey, entraUser, expect, open, Page, scim, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF records) as rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  expect(cell, 'the file ends with a whole record').toBe('');
  expect(row).toEqual([]);
  return rows;
}

/** Clicks the export link `testId` and returns the download's file name and its rows by column. */
async function exportCsv(page: Page, testId: string): Promise<{ filename: string; rows: Record<string, string>[] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const [header, ...records] = parseCsv(fs.readFileSync(await download.path(), 'utf8'));
  const rows = records.map((r) => {
    expect(r).toHaveLength(header.length);
    return Object.fromEntries(header.map((name, i) => [name, r[i]]));
  });
  return { filename: download.suggestedFilename(), rows };
}

test('the Users page exports exactly the users its filters select', async ({ page, request }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Contoso');
  const api = scim(request, await createKey(page));
  const suffix = `${Date.now()}`;
  const ids: Record<string, string> = {};
  const people = [['Alice', 'Smith'], ['Bob', 'Jones'], ['Carol', 'White'], ['Dan', 'Black']];
  for (const [given, family] of people) {
    const userName = `${given.toLowerCase()}.${suffix}@contoso.com`;
    const res = await api.post('/Users', entraUser(userName, given, family));
    expect(res.status()).toBe(201);
    ids[given] = (await res.json()).id;
  }
  // Someone Entra named with a formula, and a deactivated person.
  const evil = await api.post('/Users', { ...entraUser(`eve.${suffix}@contoso.com`, 'Eve', 'Evil'), displayName: '=HYPERLINK("https://evil.example")' });
  expect(evil.status()).toBe(201);
  expect((await api.patch(`/Users/${ids.Bob}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).status()).toBe(200);
  const group = await api.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: `Engineering ${suffix}`, members: [{ value: ids.Alice }, { value: ids.Carol }] });
  expect(group.status()).toBe(201);

  // Unfiltered: everyone, the admin included.
  await open(page, '/users');
  await expect(page.getByTestId('user-row')).toHaveCount(6);
  const all = await exportCsv(page, 'export-users');
  expect(all.filename).toMatch(/^users-\d{4}-\d{2}-\d{2}\.csv$/);
  expect(all.rows).toHaveLength(6);
  const alice = all.rows.find((r) => r.userName === `alice.${suffix}@contoso.com`)!;
  expect(alice).toMatchObject({ id: ids.Alice, displayName: 'Alice Smith', givenName: 'Alice', familyName: 'Smith',
    email: `alice.${suffix}@contoso.com`, active: 'true', source: 'scim', groups: `Engineering ${suffix}` });
  expect(all.rows.find((r) => r.userName === `eve.${suffix}@contoso.com`)!.displayName)
    .toBe('\'=HYPERLINK("https://evil.example")');

  // A search and filters, applied with the page's own form: the export follows the URL. Everyone
  // Entra provisioned is at contoso.com; the admin signed up locally.
  await page.getByLabel('Search').fill('CONTOSO');
  await page.getByLabel('Source').selectOption('scim');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/q=CONTOSO.*source=scim/);
  await expect(page.getByTestId('user-row')).toHaveCount(5);
  const searched = await exportCsv(page, 'export-users');
  expect(searched.rows).toHaveLength(5);
  const shown = await page.getByTestId('user-row').locator('th a').allTextContents();
  expect(searched.rows.map((r) => r.userName).sort()).toEqual(shown.sort());

  await page.getByLabel('Status').selectOption('deactivated');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/status=deactivated/);
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  const deactivated = await exportCsv(page, 'export-users');
  expect(deactivated.rows.map((r) => [r.id, r.userName, r.active]))
    .toEqual([[ids.Bob, `bob.${suffix}@contoso.com`, 'false']]);
});

test('the provisioning log exports the requests its filters select', async ({ page, request }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Fabrikam');
  const api = scim(request, await createKey(page));
  const userName = `${Date.now()}@fabrikam.example`;
  expect((await api.get(`/Users?filter=userName eq "${userName}"`)).status()).toBe(200);
  expect((await api.post('/Users', entraUser(userName, 'Fay', 'Field'))).status()).toBe(201);
  expect((await api.post('/Users', entraUser(userName, 'Fay', 'Field'))).status()).toBe(409);

  // The log writer stores events in batches: reopen until all three are there.
  await expect.poll(async () => {
    await page.goto('/log');
    return page.getByTestId('log-row').count();
  }).toBe(3);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const all = await exportCsv(page, 'export-log');
  expect(all.filename).toMatch(/^provisioning-log-\d{4}-\d{2}-\d{2}\.csv$/);
  expect(all.rows.map((r) => [r.method, r.operation, r.status])).toEqual([
    ['POST', 'create', '409'], ['POST', 'create', '201'], ['GET', 'list', '200']]);
  expect(all.rows.every((r) => r.apiKey === 'Entra')).toBe(true);

  await page.getByLabel('Result').selectOption('error');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/result=error/);
  await expect(page.getByTestId('log-row')).toHaveCount(1);
  const errors = await exportCsv(page, 'export-log');
  expect(errors.rows).toHaveLength(1);
  expect(errors.rows[0]).toMatchObject({ method: 'POST', path: '/scim/v2/Users', operation: 'create', status: '409',
    scimType: 'uniqueness', resourceType: 'User' });
  expect(errors.rows[0].detail).not.toBe('');
});
