// Roles in the console (issue 13): an admin makes a provisioned person an admin after a
// confirmation that says what changes, the organisation's last active admin cannot step down,
// the Users page filters by role, and each change is in the audit log.
import { createKey, entraUser, expect, open, scim, signUp, test, uniqueEmail } from './helpers';

test.beforeEach(({ page }) => {
  page.on('pageerror', (err) => { throw err; });
});

test('an admin makes a provisioned person an admin; the last admin cannot step down', async ({ page, request }) => {
  const adaEmail = uniqueEmail('ada');
  await signUp(page, adaEmail, 'Ada Admin', 'Contoso');
  const api = scim(request, await createKey(page));
  const suffix = Date.now();
  const res = await api.post('/Users', entraUser(`bob.${suffix}@contoso.com`, 'Bob', 'Jones'));
  expect(res.status()).toBe(201);
  const bobId = (await res.json()).id;

  // Ada is the only admin: stepping down is refused, with the reason, and nothing changes.
  await open(page, '/users?role=admin');
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  await page.getByTestId('user-row').getByRole('link').click();
  await expect(page.getByTestId('role')).toHaveText('Admin');
  await page.getByTestId('change-role').click();
  await expect(page.getByTestId('role-confirm')).toContainText('You will lose access');
  await page.getByTestId('confirm-role').click();
  await expect(page.getByTestId('role-error')).toContainText('last active admin');
  await expect(page.getByTestId('role')).toHaveText('Admin');

  // Bob, provisioned as a member, becomes an admin after the confirmation.
  await open(page, `/users/${bobId}`);
  await expect(page.getByTestId('role')).toHaveText('Member');
  await page.getByTestId('change-role').click();
  await expect(page.getByTestId('role-confirm')).toContainText('will manage API keys');
  await page.getByTestId('confirm-role').click();
  await expect(page.getByTestId('role')).toHaveText('Admin');
  await expect(page.getByTestId('role-confirm')).toBeHidden();

  await open(page, '/users?role=admin');
  await expect(page.getByTestId('user-row')).toHaveCount(2);
  await open(page, '/users?role=member');
  await expect(page.getByTestId('no-users')).toBeVisible();

  // Back to member: the confirmation says what Bob loses.
  await open(page, `/users/${bobId}`);
  await page.getByTestId('change-role').click();
  await expect(page.getByTestId('role-confirm')).toContainText('API keys they created stop working');
  await page.getByTestId('confirm-role').click();
  await expect(page.getByTestId('role')).toHaveText('Member');

  await open(page, '/audit?kind=role_changed');
  const rows = page.locator('[data-testid="audit-row"][data-kind="role_changed"]');
  await expect(rows).toHaveCount(2);
  await expect(rows.getByTestId('audit-detail')).toContainText([
    `made bob.${suffix}@contoso.com a member (was an admin)`,
    `made bob.${suffix}@contoso.com an admin (was a member)`,
  ]);
});

test('roles Entra sends show as Entra\'s, and the admin app role is configurable', async ({ page, request }) => {
  await signUp(page, uniqueEmail('ada'), 'Ada Admin', 'Fabrikam');
  const api = scim(request, await createKey(page));
  const suffix = Date.now();

  await open(page, '/users');
  await expect(page.getByTestId('entra-role-current')).toHaveText('Admin');
  await page.getByTestId('entra-role').locator('summary').click();
  await page.getByLabel('Admin app role value').fill('Scimpad.Admin');
  await page.getByTestId('entra-role-form').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('entra-role-current')).toHaveText('Scimpad.Admin');

  const withRole = (name: string, role: string) => ({
    ...entraUser(`${name}.${suffix}@fabrikam.com`, name, 'Role'),
    roles: [{ primary: 'True', type: 'WindowsAzureActiveDirectoryRole', value: role }],
  });
  const carol = await api.post('/Users', withRole('carol', 'scimpad.admin'));
  expect(carol.status()).toBe(201);
  const dave = await api.post('/Users', withRole('dave', 'Admin'));
  expect(dave.status()).toBe(201);

  await open(page, `/users/${(await carol.json()).id}`);
  await expect(page.getByTestId('role')).toHaveText('Admin');
  await expect(page.getByTestId('role-from-entra')).toContainText('Change it in Entra');
  await expect(page.getByTestId('change-role')).toHaveCount(0);
  await open(page, `/users/${(await dave.json()).id}`);
  await expect(page.getByTestId('role')).toHaveText('Member');

  await open(page, '/audit?kind=role_mapping_changed');
  await expect(page.getByTestId('audit-detail')).toContainText('"Scimpad.Admin" (was "Admin")');
});
