// The seed flow from the admin's side: get a key in the console, let "Entra" (this test, over
// HTTP) provision people and a group, and watch the Users and Groups pages show exactly that.
import { baseURL } from '../playwright.config';
import { PATCH_OP, createKey, entraUser, expect, open, scim, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

test('provisioned users and groups appear in the console as Entra left them', async ({ page, request }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Contoso');
  const api = scim(request, await createKey(page));
  const suffix = Date.now();
  const ids: string[] = [];
  for (const [given, family] of [['Alice', 'Smith'], ['Bob', 'Jones'], ['Carol', 'White']]) {
    const res = await api.post('/Users', entraUser(`${given.toLowerCase()}.${suffix}@contoso.com`, given, family));
    expect(res.status()).toBe(201);
    ids.push((await res.json()).id);
  }
  const group = await api.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Engineering ${suffix}` });
  const groupId = (await group.json()).id;
  expect((await api.patch(`/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [
    { op: 'Add', path: 'members', value: [{ value: ids[0] }, { value: ids[1] }] }] })).status()).toBe(204);
  expect((await api.patch(`/Users/${ids[1]}`, { schemas: [PATCH_OP], Operations: [
    { op: 'Replace', path: 'active', value: 'False' }] })).status()).toBe(200);
  expect((await api.patch(`/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [
    { op: 'Replace', path: 'displayName', value: `R&D ${suffix}` }] })).status()).toBe(204);

  await open(page, '/users');
  await expect(page.getByTestId('user-row')).toHaveCount(4);
  const bob = page.getByTestId('user-row').filter({ hasText: `bob.${suffix}` });
  await expect(bob).toContainText('deactivated');
  await expect(bob).toContainText('SCIM');
  await expect(page.getByTestId('user-row').filter({ hasText: `alice.${suffix}` })).toContainText('active');

  await page.getByLabel('Status').selectOption('deactivated');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/status=deactivated/);
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  await page.goBack();
  await expect(page.getByTestId('user-row')).toHaveCount(4);

  await open(page, `/users/${ids[0]}`);
  await expect(page.getByTestId('user-name')).toHaveText(`alice.${suffix}@contoso.com`);
  await expect(page.getByTestId('scim-id')).toHaveText(ids[0]);
  await expect(page.getByTestId('user-groups')).toContainText(`R&D ${suffix}`);
  await expect(page.getByTestId('scim-json')).toContainText('"employeeNumber": "42"');
  await expect(page.getByTestId('user-events')).toContainText('created user');

  await open(page, '/groups');
  const row = page.getByTestId('group-row').filter({ hasText: `R&D ${suffix}` });
  await expect(row.getByTestId('member-count')).toHaveText('2');
  await row.getByRole('link').click();
  await expect(page.getByTestId('group-name')).toHaveText(`R&D ${suffix}`);
  await expect(page.getByTestId('group-members')).toContainText(`alice.${suffix}`);
  await expect(page.getByTestId('group-members')).toContainText(`bob.${suffix}`);
});

test('search, filters, sorting and paging over 250 provisioned users', async ({ page, request }) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Northwind');
  const api = scim(request, await createKey(page));
  for (let i = 0; i < 250; i++) {
    const n = String(i).padStart(3, '0');
    const res = await api.post('/Users', entraUser(`user${n}@northwind.example`, `Given${n}`, i % 5 === 0 ? 'Special' : 'Plain'));
    expect(res.status()).toBe(201);
  }
  await open(page, '/users');
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 1–50 of 251');
  await page.getByTestId('pager-next').click();
  // By user name, "Next" and "Previous" name the person at the page's edge: the server seeks there.
  await expect(page).toHaveURL(/\/users\?page=2&after=[^&]+$/);
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 51–100 of 251');
  await expect(page.getByTestId('user-row').first()).toContainText('user049@northwind.example');
  await page.getByTestId('pager-next').click();
  await expect(page).toHaveURL(/\/users\?page=3&after=[^&]+$/);
  await expect(page.getByTestId('user-row').first()).toContainText('user099@northwind.example');
  await page.getByTestId('pager-prev').click();
  await expect(page).toHaveURL(/\/users\?page=2&before=[^&]+$/);
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 51–100 of 251');
  await expect(page.getByTestId('user-row').first()).toContainText('user049@northwind.example');
  await expect(page.getByTestId('user-row').last()).toContainText('user098@northwind.example');
  await page.getByTestId('pager-prev').click();
  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByTestId('user-row').first()).toContainText(/admin\./);
  // Other orders page by number.
  await open(page, '/users?sort=email');
  await page.getByTestId('pager-next').click();
  await expect(page).toHaveURL(/\/users\?sort=email&page=2$/);
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 51–100 of 251');
  await open(page, '/users?page=2&after=user-that-was-deleted');
  await expect(page.getByTestId('user-row').first()).toContainText('user049@northwind.example');

  await page.getByLabel('Search').fill('special');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('pager-status')).toHaveText('Showing 1–50 of 50');
  await page.getByLabel('Source').selectOption('local');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('no-users')).toBeVisible();

  await open(page, '/users?sort=user_name&dir=desc');
  await expect(page.getByTestId('user-row').first()).toContainText('user249@northwind.example');
  await page.getByRole('link', { name: 'User name' }).click();
  await expect(page).toHaveURL(/dir=asc/);
  await expect(page.getByTestId('user-row').first()).toContainText(/admin\./);
});
