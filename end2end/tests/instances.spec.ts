import { expect, test } from '@playwright/test';
import { secondURL } from '../env';
import { clickIn, connectGithub, ensureDisconnected, hydrated, signIn, status } from './helpers';

test('one browser session alternates between two hubs on one database', async ({ page, context }) => {
  await signIn(page); // on the first hub
  await hydrated(page);
  await ensureDisconnected(page, 'github');

  // Signed in on the second hub too: the session lives in the shared database.
  const other = await context.newPage();
  await other.goto(`${secondURL}/connections`);
  await expect(other.getByRole('heading', { name: 'Connections', exact: true })).toBeVisible();
  await hydrated(other);
  await expect(status(other, 'github')).toHaveText('Not connected');

  // Start on the second hub; the provider sends the browser back to the public URL (the
  // first hub), which finds the pending flow the second one stored.
  await connectGithub(other);
  await expect(status(page, 'github')).toHaveText('Connected as sandbox-user'); // live, first hub

  // Disconnect through the second hub; the first hub's open page sees it live.
  await other.goto(`${secondURL}/connections`);
  await hydrated(other);
  await expect(status(other, 'github')).toHaveText('Connected as sandbox-user');
  await clickIn(other, 'github', 'Disconnect');
  await expect(status(other, 'github')).toHaveText('Not connected');
  await expect(status(page, 'github')).toHaveText('Not connected');
});
