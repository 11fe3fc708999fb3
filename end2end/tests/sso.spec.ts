import { expect, test } from '@playwright/test';

// Single sign-on to the dashboard through the organisation's OpenID provider: the real
// oidc-provider (end2end/oidc/server.mjs), whose people are picked by login_hint. The hub
// allows corp.test and makes members of the atom-admins group administrators.

test('single sign-on creates accounts, maps the admin claim and refuses another domain', async ({ page, browser }) => {
  await page.goto('/signin');
  await expect(page.getByRole('link', { name: 'Sign in with Corp SSO' })).toHaveAttribute('href', '/auth/sso');

  // Ana, in the atom-admins group: a new account, an administrator.
  await page.goto('/auth/sso?login_hint=ana@corp.test');
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByRole('heading', { name: 'Connections', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Users', exact: true })).toBeVisible();
  await page.goto('/admin/users');
  await expect(page.locator('tr[data-user="ana@corp.test"]')).toContainText('Active');

  // Uma, staff only: an account without the admin pages.
  const uma = await browser.newPage();
  await uma.goto('/auth/sso?login_hint=uma@corp.test');
  await expect(uma).toHaveURL(/\/connections$/);
  await expect(uma.getByRole('link', { name: 'Users', exact: true })).toHaveCount(0);
  expect((await uma.goto('/admin'))?.status()).toBe(403);
  await uma.close();

  // Otto, of elsewhere.test (an admin by his claims, too): refused, nobody signed in.
  const otto = await browser.newPage();
  await otto.goto('/auth/sso?login_hint=otto@elsewhere.test');
  await expect(otto.getByRole('heading', { name: 'You were not signed in' })).toBeVisible();
  await expect(otto.getByText(/accounts of this email domain may not sign in here/)).toBeVisible();
  await otto.goto('/connections');
  await expect(otto).toHaveURL(/\/signin/);
  await otto.close();
  await page.reload();
  await expect(page.locator('tr[data-user^="otto"]')).toHaveCount(0);
});
