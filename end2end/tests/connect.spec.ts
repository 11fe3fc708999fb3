import { expect, test } from '@playwright/test';
import { card, clickIn, connectGithub, ensureDisconnected, hydrated, signIn, status } from './helpers';

test('unauthenticated /connections redirects to /signin', async ({ page }) => {
  await page.goto('/connections');
  await expect(page).toHaveURL(/\/signin(\?|$)/);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});

test('wrong password is refused', async ({ page }) => {
  await page.goto('/signin');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByText('Wrong username or password')).toBeVisible();
  await expect(page).not.toHaveURL(/\/connections/);
});

test('sign in shows the provider cards', async ({ page }) => {
  await signIn(page);
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toBeVisible();
  await expect(card(page, 'github').getByText('Sandbox', { exact: true })).toBeVisible();
  const oidc = card(page, 'oidc');
  await expect(oidc.locator('h2')).toHaveText('Example OIDC');
  await expect(oidc.getByText('Sandbox', { exact: true })).toHaveCount(0);
  await expect(status(page, 'oidc')).toHaveText(/^(Not connected|Connected as .+|Needs attention)$/);
});

test('connect GitHub through the sandbox, then disconnect', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'github');
  await connectGithub(page, 'Authorize');
  await expect(page.getByText('GitHub connected.')).toBeVisible();
  await expect(status(page, 'github')).toHaveText('Connected as sandbox-user');
  await hydrated(page);
  // Disconnect asks first, and saying nothing changes nothing.
  await card(page, 'github').getByText('Disconnect', { exact: true }).click();
  await expect(card(page, 'github').getByText(/^Disconnect GitHub\? ATOM Connect asks GitHub to revoke/)).toBeVisible();
  await card(page, 'github').getByText('Disconnect', { exact: true }).click();
  await expect(card(page, 'github').getByRole('button', { name: 'Yes, disconnect GitHub' })).toBeHidden();
  await expect(status(page, 'github')).toHaveText('Connected as sandbox-user');
  await clickIn(page, 'github', 'Disconnect');
  await expect(status(page, 'github')).toHaveText('Not connected');
  await expect(page.getByText('GitHub disconnected.')).toBeVisible();
});

test('cancel at the sandbox stores nothing', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'github');
  await connectGithub(page, 'Cancel');
  await expect(page.getByText('You cancelled the connection to GitHub. Nothing was stored.')).toBeVisible();
  await expect(status(page, 'github')).toHaveText('Not connected');
});

test('connect the OIDC provider (real oidc-provider)', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'oidc');
  await clickIn(page, 'oidc', 'Connect');
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
  await expect(status(page, 'oidc')).toHaveText('Connected as Olivia OIDC');
  await hydrated(page);
  await clickIn(page, 'oidc', 'Disconnect');
  await expect(status(page, 'oidc')).toHaveText('Not connected');
});

// The authorization server offers only client_secret_post at its token endpoint (see
// oidc/server.mjs): the OIDC journey above connects only because the hub reads
// token_endpoint_auth_methods_supported from discovery (RFC 8414 §2). This one configures the
// same server as plain OAuth 2, without discovery or a userinfo endpoint: `client_auth` says
// how to authenticate, and the card says Connected with no account name.
test('connect a plain OAuth 2 provider without a userinfo endpoint', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'plain');
  await clickIn(page, 'plain', 'Connect');
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
  await expect(status(page, 'plain')).toHaveText('Connected');
  await hydrated(page);
  await clickIn(page, 'plain', 'Disconnect');
  await expect(status(page, 'plain')).toHaveText('Not connected');
});

test('a second tab updates live', async ({ page, context }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'github');

  const watcher = await context.newPage();
  await watcher.goto('/connections');
  await hydrated(watcher);
  await expect(status(watcher, 'github')).toHaveText('Not connected');
  await watcher.evaluate(() => { (window as any).__noReload = true; });

  await connectGithub(page, 'Authorize');
  await expect(status(watcher, 'github')).toHaveText('Connected as sandbox-user', { timeout: 5_000 });
  await hydrated(page);
  await clickIn(page, 'github', 'Disconnect');
  await expect(status(watcher, 'github')).toHaveText('Not connected', { timeout: 5_000 });
  expect(await watcher.evaluate(() => (window as any).__noReload)).toBe(true);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign in, connect GitHub, disconnect', async ({ page }) => {
    await signIn(page);
    await ensureDisconnected(page, 'github');
    await connectGithub(page, 'Authorize');
    await expect(status(page, 'github')).toHaveText('Connected as sandbox-user');
    await clickIn(page, 'github', 'Disconnect');
    await expect(status(page, 'github')).toHaveText('Not connected');
  });
});

test('pages hydrate under the CSP with no console errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(error.message));
  const response = await page.goto('/signin');
  expect(response?.headers()['content-security-policy']).toContain("'nonce-");
  await signIn(page);
  await hydrated(page);
  expect(errors).toEqual([]);
});
