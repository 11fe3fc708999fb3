import { expect, test, type APIRequestContext } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { atomBin, atomEnv } from '../env';

// Links a platform's backend hands its users: portal links (their own Connections page) and
// connect links that name the provider account they expect. Users are the platform's own ids.

function apiKey(): string {
  const r = spawnSync(
    atomBin,
    ['apikey', 'create', '--name', `e2e-links-${Date.now()}`, '--scope', 'connections:write', '--scope', 'users:write', '--scope', 'tokens:read'],
    { env: { ...process.env, ...atomEnv }, encoding: 'utf8', timeout: 30_000 },
  );
  const key = /atom_[A-Za-z0-9_-]{43}/.exec(r.stdout)?.[0];
  if (!key) throw new Error(`atom apikey create: ${r.status}\n${r.stdout}${r.stderr}`);
  return key;
}

async function link(request: APIRequestContext, key: string, path: string, body: object): Promise<string> {
  const answer = await request.post(path, { headers: { Authorization: `Bearer ${key}` }, data: body });
  expect(answer.status()).toBe(201);
  return (await answer.json()).url;
}

async function connections(request: APIRequestContext, key: string, user: string) {
  const answer = await request.get(`/api/v1/users/${user}/connections`, { headers: { Authorization: `Bearer ${key}` } });
  expect(answer.status()).toBe(200);
  return (await answer.json()).connections as { service: string; account: { name: string } }[];
}

test('a portal link opens that user\'s own Connections page, where they connect GitHub', async ({ page, request }) => {
  const key = apiKey();
  const user = `plat-${Date.now()}`;
  const url = await link(request, key, '/api/v1/portal-links', { user_id: user });
  await page.goto(url);
  await expect(page.getByRole('heading', { name: `Open ${user}'s connections?` })).toBeVisible();
  await page.getByRole('button', { name: 'Open my connections' }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByRole('heading', { name: 'Connections', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Users', exact: true })).toHaveCount(0);
  await page.locator('article[data-provider="github"]').getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.getByRole('heading', { name: /Sandbox GitHub/ })).toBeVisible();
  await page.getByLabel('Login').fill(`${user}-gh`);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page.getByTestId('status-github')).toHaveText(`Connected as ${user}-gh`);
  expect((await connections(request, key, user)).map((c) => c.account.name)).toEqual([`${user}-gh`]);
  // The link worked once.
  const again = await page.request.get(url);
  expect(again.status()).toBe(400);
});

test('a forwarded link that expects another account keeps nothing; its user connects and can undo', async ({ browser, request }) => {
  const key = apiKey();
  const user = `ada-${Date.now()}`;
  const forwarded = await link(request, key, '/api/v1/connect-links', { user_id: user, service: 'github', login_hint: 'ada-gh' });
  // Someone else's browser: the hub's page first, naming whose link it is and the account.
  const other = await browser.newPage();
  await other.goto(forwarded);
  await expect(other.getByRole('heading', { name: `Connect GitHub for ${user}?` })).toBeVisible();
  await expect(other.getByText('the GitHub account ada-gh is connected')).toBeVisible();
  await other.getByRole('button', { name: 'Continue to GitHub' }).click();
  await expect(other.getByLabel('Login')).toHaveValue('ada-gh'); // GitHub's `login` suggests it
  await other.getByLabel('Login').fill('eve-gh');
  await other.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(other.getByRole('heading', { name: 'GitHub was not connected' })).toBeVisible();
  await expect(other.getByText(/not the GitHub account this link was made for/)).toBeVisible();
  expect(await connections(request, key, user)).toEqual([]);
  await other.close();

  // Ada, with a new link: connected as ada-gh, then undone with one click.
  const mine = await link(request, key, '/api/v1/connect-links', { user_id: user, service: 'github', login_hint: 'ada-gh' });
  const page = await browser.newPage();
  await page.goto(mine);
  await page.getByRole('button', { name: 'Continue to GitHub' }).click();
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'GitHub connected as ada-gh' })).toBeVisible();
  expect((await connections(request, key, user)).map((c) => c.account.name)).toEqual(['ada-gh']);
  await page.getByRole('button', { name: 'Undo: disconnect ada-gh' }).click();
  await expect(page.getByRole('heading', { name: 'GitHub disconnected' })).toBeVisible();
  expect(await connections(request, key, user)).toEqual([]);
  await page.close();
});
