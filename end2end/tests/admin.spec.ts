import { expect, test } from '@playwright/test';
import { ADMIN_USERNAME, PASSWORD } from '../env';
import { hydrated, signIn } from './helpers';

test('an admin creates an API key, sees it once, and revokes it', async ({ page }) => {
  await signIn(page, ADMIN_USERNAME);
  await page.getByRole('link', { name: 'API keys', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/keys$/);
  const name = `billing-${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByLabel(/tokens:read/).check();
  await page.getByRole('button', { name: 'Create key', exact: true }).click();
  const key = (await page.locator('#new-key').textContent())?.trim() ?? '';
  expect(key).toMatch(/^atom_[A-Za-z0-9_-]{43}$/);
  await page.getByRole('link', { name: 'Back to API keys' }).click();
  const row = page.locator(`tr[data-key="${name}"]`);
  await expect(row).toContainText(key.slice(0, 12));
  await expect(page.locator('body')).not.toContainText(key);
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByText('API key revoked.')).toBeVisible();
  await expect(page.locator(`tr[data-key="${name}"]`)).toContainText('Revoked');
  const answer = await page.request.get('/api/v1/users/x/connections/github/token', {
    headers: { Authorization: `Bearer ${key}` },
  });
  expect(answer.status()).toBe(401);
});

test('an admin creates a user who can then sign in', async ({ page, browser }) => {
  await signIn(page, ADMIN_USERNAME);
  await page.goto('/admin/users');
  const username = `cy-${Date.now()}`;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create user', exact: true }).click();
  await expect(page.getByText('User created.')).toBeVisible();
  await expect(page.locator(`tr[data-user="${username}"]`)).toContainText('Active');
  const other = await browser.newPage();
  await signIn(other, username);
  await other.close();
});

test('a non-admin gets 403 on the admin pages and sees no admin links', async ({ page }) => {
  await signIn(page);
  await expect(page.getByRole('link', { name: 'Users', exact: true })).toHaveCount(0);
  for (const path of ['/admin', '/admin/users', '/admin/keys', '/admin/audit', '/admin/providers']) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(403);
    await expect(page.getByText('This part of ATOM Connect is for administrators.')).toBeVisible();
  }
  // And every admin server function, called as a page would call it.
  for (const fn of ['list_users', 'list_api_keys', 'list_audit', 'list_providers', 'overview']) {
    const response = await page.request.post(`/rpc/admin/${fn}`, {
      headers: { origin: 'http://localhost:5158', 'content-type': 'application/json' },
      data: fn === 'overview' ? { window: 'day' } : fn === 'list_audit' ? { filter: {} } : {},
    });
    expect(response.status(), fn).toBe(403);
  }
});

test('a user changes their password from the account page', async ({ page }) => {
  await signIn(page, 'bea');
  await page.getByRole('link', { name: /^Account/ }).click();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password', { exact: true }).fill('bea has a new passphrase');
  await page.getByLabel('New password again').fill('bea has a new passphrase');
  await page.getByRole('button', { name: 'Change password', exact: true }).click();
  await expect(page.getByText('Password changed. Your other sessions have ended.')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await signIn(page, 'bea', 'bea has a new passphrase');
});

test('an admin filters the audit log', async ({ page }) => {
  await signIn(page, ADMIN_USERNAME);
  await hydrated(page);
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  // Reached by client-side navigation: the page's data comes from the server function.
  await expect(page.locator('tr[data-event]').first()).toBeVisible();
  await expect(page.getByText('could not be loaded')).toHaveCount(0);
  await page.getByLabel('Event').selectOption('auth.sign_in');
  await page.getByLabel('User', { exact: true }).fill(ADMIN_USERNAME);
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(page).toHaveURL(/kind=auth.sign_in/);
  const rows = page.locator('tr[data-event]');
  await expect(rows.first()).toBeVisible();
  expect(await page.locator('tr[data-event]:not([data-event="auth.sign_in"])').count()).toBe(0);
  await expect(page.getByRole('link', { name: 'Export (JSON lines)' })).toHaveAttribute('href', /export\?user=root&kind=auth.sign_in/);
});
