// The Groups page's "Membership replace" setting, and what it changes for real: Entra's
// `{"op":"replace","path":"members","value":[one member]}` adds that member by default, and under
// Exact makes the group's members exactly the list, as RFC 7644 says.
import { APIRequestContext, PATCH_OP, Page, createKey, entraUser, expect, open, scim, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

type Scim = ReturnType<typeof scim>;

async function createUser(api: Scim, userName: string): Promise<string> {
  const res = await api.post('/Users', entraUser(userName, 'Test', 'Person'));
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

/** A group Entra has given two members, the way it does: created empty, then a PATCH add. */
async function groupOfTwo(api: Scim, name: string, members: string[]): Promise<string> {
  const res = await api.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id;
  expect((await api.patch(`/Groups/${id}`, { schemas: [PATCH_OP], Operations: [
    { op: 'Add', path: 'members', value: members.map((value) => ({ value })) }] })).status()).toBe(204);
  return id;
}

/** What Entra sends when it adds one person to a group. */
async function entraReplace(api: Scim, group: string, member: string): Promise<void> {
  expect((await api.patch(`/Groups/${group}`, { schemas: [PATCH_OP], Operations: [
    { op: 'replace', path: 'members', value: [{ value: member }] }] })).status()).toBe(204);
}

async function expectMembers(page: Page, group: string, userNames: string[]): Promise<void> {
  await open(page, `/groups/${group}`);
  await expect(page.getByTestId('group-member-total')).toHaveText(String(userNames.length));
  await expect(page.getByTestId('group-members').getByRole('listitem')).toHaveCount(userNames.length);
  for (const name of userNames) {
    await expect(page.getByTestId('group-members')).toContainText(name);
  }
}

const additive = (page: Page) => page.getByLabel(/^Additive \(recommended for Microsoft Entra ID\)/);
const exact = (page: Page) => page.getByLabel(/^Exact \(RFC 7644\)/);

async function provision(page: Page, request: APIRequestContext) {
  const api = scim(request, await createKey(page));
  const suffix = Date.now();
  const names = ['ann', 'ben', 'cat'].map((n) => `${n}.${suffix}@contoso.com`);
  const [ann, ben, cat] = await Promise.all(names.map((n) => createUser(api, n)));
  return { api, suffix, names, ann, ben, cat };
}

test('membership replace is additive by default and exact once chosen', async ({ page, request }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Contoso');
  const { api, suffix, names, ann, ben, cat } = await provision(page, request);
  const kept = await groupOfTwo(api, `Kept ${suffix}`, [ann, ben]);
  const exactly = await groupOfTwo(api, `Exactly ${suffix}`, [ann, ben]);

  await open(page, '/groups');
  const card = page.getByTestId('member-replace');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('member-replace-current')).toHaveText('Additive');
  await expect(additive(page)).toBeChecked();
  await expect(exact(page)).not.toBeChecked();

  // The default: Entra's one-member replace adds the third person and removes nobody.
  await entraReplace(api, kept, cat);
  await expectMembers(page, kept, names);

  await open(page, '/groups');
  await exact(page).check();
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('member-replace-saved')).toBeVisible();
  await expect(page.getByTestId('member-replace-current')).toHaveText('Exact');
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(exact(page)).toBeChecked();
  await expect(additive(page)).not.toBeChecked();
  await expect(page.getByTestId('member-replace-current')).toHaveText('Exact');

  // Exact: the same request leaves the group with exactly the one member it names.
  await entraReplace(api, exactly, cat);
  await expectMembers(page, exactly, [names[2]]);
  await expectMembers(page, kept, names);
});

test('the setting saves without JavaScript too', async ({ page, browser }) => {
  await signUp(page, uniqueEmail(), 'Ada Admin', 'Fabrikam');
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noJs.newPage();
  await plain.goto('/groups');
  await expect(additive(plain)).toBeChecked();
  await exact(plain).check();
  await plain.getByTestId('member-replace').getByRole('button', { name: 'Save' }).click();
  // The server function answers a plain form post by sending the browser back to the page.
  await expect(plain).toHaveURL(/\/groups\??$/);
  await expect(exact(plain)).toBeChecked();
  await expect(plain.getByTestId('member-replace-current')).toHaveText('Exact');
  await noJs.close();
});
