import { expect, test } from '@playwright/test';
import { card, clickIn, connectSandbox, ensureDisconnected, hydrated, signIn, status } from './helpers';

// Each sandboxed OAuth 2 service, connected through its consent page and disconnected again.
const services = [
  { service: 'gmail', provider: 'Google', name: 'Sandbox User' },
  { service: 'gdrive', provider: 'Google', name: 'Sandbox User' },
  { service: 'outlook', provider: 'Microsoft', name: 'Sandbox User' },
  { service: 'teams', provider: 'Microsoft', name: 'Sandbox User' },
  { service: 'slack', provider: 'Slack', name: 'sandbox-user (Sandbox Team)' },
  { service: 'notion', provider: 'Notion', name: 'Sandbox User' },
  { service: 'dropbox', provider: 'Dropbox', name: 'Sandbox User' },
  { service: 'asana', provider: 'Asana', name: 'Sandbox User' },
];

for (const { service, provider, name } of services) {
  test(`connect ${service} through the sandbox, then disconnect`, async ({ page }) => {
    await signIn(page);
    await hydrated(page);
    await expect(card(page, service).getByText('Sandbox', { exact: true })).toBeVisible();
    await ensureDisconnected(page, service);
    await connectSandbox(page, service, provider);
    await expect(status(page, service)).toHaveText(`Connected as ${name}`);
    await hydrated(page);
    await clickIn(page, service, 'Disconnect');
    await expect(status(page, service)).toHaveText('Not connected');
  });
}

test('cancel at the Google sandbox stores nothing', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await ensureDisconnected(page, 'gmail');
  await connectSandbox(page, 'gmail', 'Google', 'Cancel');
  await expect(page.getByText('You cancelled the connection to Gmail. Nothing was stored.')).toBeVisible();
  await expect(status(page, 'gmail')).toHaveText('Not connected');
});
