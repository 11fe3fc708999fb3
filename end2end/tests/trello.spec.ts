import { expect, test, type Page } from '@playwright/test';
import { card, clickIn, ensureDisconnected, hydrated, signIn, status } from './helpers';

/** From /connections: Connect on the trello card, then Authorize (or Cancel) at the sandbox. */
async function connectTrello(page: Page, choice: 'Authorize' | 'Cancel') {
  await clickIn(page, 'trello', 'Connect');
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:5159\/trello\/1\/OAuthAuthorizeToken\?/);
  await expect(page.getByRole('heading', { name: 'Sandbox Trello' })).toBeVisible();
  await expect(page.getByText('read,write,account')).toBeVisible();
  await expect(page.getByLabel('Login')).toHaveValue('sandbox-user');
  await page.getByRole('button', { name: choice, exact: true }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

test('connect Trello over OAuth 1.0a through the sandbox, then disconnect', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await expect(card(page, 'trello').getByText('Sandbox', { exact: true })).toBeVisible();
  await ensureDisconnected(page, 'trello');
  await connectTrello(page, 'Authorize');
  await expect(status(page, 'trello')).toHaveText('Connected as Sandbox User');
  await hydrated(page);
  await clickIn(page, 'trello', 'Disconnect');
  await expect(status(page, 'trello')).toHaveText('Not connected');
});

test('cancel at the Trello sandbox stores nothing', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'trello');
  await connectTrello(page, 'Cancel');
  await expect(page.getByText('You cancelled the connection to Trello. Nothing was stored.')).toBeVisible();
  await expect(status(page, 'trello')).toHaveText('Not connected');
});
