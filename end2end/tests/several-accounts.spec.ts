import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { atomBin, atomEnv } from '../env';

// A user with two Gmail accounts (work and home): the second is added from the Connections
// page, shown under the first, and disconnected on its own; with and without JavaScript.

function apiKey(): string {
  const r = spawnSync(
    atomBin,
    ['apikey', 'create', '--name', `e2e-accounts-${Date.now()}`, '--scope', 'connections:write', '--scope', 'users:write', '--scope', 'tokens:read'],
    { env: { ...process.env, ...atomEnv }, encoding: 'utf8', timeout: 30_000 },
  );
  const key = /atom_[A-Za-z0-9_-]{43}/.exec(r.stdout)?.[0];
  if (!key) throw new Error(`atom apikey create: ${r.status}\n${r.stdout}${r.stderr}`);
  return key;
}

async function gmailAccounts(request: APIRequestContext, key: string, user: string): Promise<string[]> {
  const answer = await request.get(`/api/v1/users/${user}/connections`, { headers: { Authorization: `Bearer ${key}` } });
  expect(answer.status()).toBe(200);
  const { connections } = (await answer.json()) as { connections: { service: string; account: { name: string } }[] };
  return connections.filter((c) => c.service === 'gmail').map((c) => c.account.name).sort();
}

async function consentAs(page: Page, login: string) {
  await expect(page.getByRole('heading', { name: 'Sandbox Google', exact: true })).toBeVisible();
  await page.getByLabel('Login').fill(login);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

for (const js of [true, false]) {
  test.describe(`JavaScript ${js ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled: js });

    test('a second Gmail account is added from the Connections page and disconnected on its own', async ({ page, request }) => {
      const key = apiKey();
      const user = `pat-${js ? 'js' : 'nojs'}-${Date.now()}`;
      const portal = await request.post('/api/v1/portal-links', { headers: { Authorization: `Bearer ${key}` }, data: { user_id: user } });
      expect(portal.status()).toBe(201);
      await page.goto((await portal.json()).url);
      await page.getByRole('button', { name: 'Open my connections' }).click();
      const gmail = page.locator('article[data-provider="gmail"]');
      await expect(gmail.getByRole('button', { name: 'Add another account' })).toHaveCount(0);

      await gmail.getByRole('button', { name: 'Connect', exact: true }).click();
      await consentAs(page, 'pat-work');
      await expect(page.getByTestId('status-gmail')).toHaveText('Connected as Pat Work');

      await gmail.getByRole('button', { name: 'Add another account' }).click();
      await consentAs(page, 'pat-home');
      await expect(page.getByTestId('status-gmail')).toHaveText('Connected as Pat Work');
      const others = gmail.getByRole('list', { name: 'Other Gmail accounts' });
      await expect(others).toContainText('Connected as Pat Home');
      expect(await gmailAccounts(request, key, user)).toEqual(['Pat Home', 'Pat Work']);

      // The same account again changes nothing but its tokens.
      await gmail.getByRole('button', { name: 'Add another account' }).click();
      await consentAs(page, 'pat-home');
      expect(await gmailAccounts(request, key, user)).toEqual(['Pat Home', 'Pat Work']);

      await others.getByText('Disconnect Pat Home', { exact: true }).click();
      await others.getByRole('button', { name: 'Yes, disconnect Pat Home from Gmail' }).click();
      await expect(page).toHaveURL(/disconnected=gmail/);
      await expect(page.getByTestId('status-gmail')).toHaveText('Connected as Pat Work');
      await expect(gmail.getByRole('list', { name: 'Other Gmail accounts' })).toHaveCount(0);
      expect(await gmailAccounts(request, key, user)).toEqual(['Pat Work']);
    });
  });
}
