import { expect, test } from '@playwright/test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawnSync } from 'node:child_process';
import { atomBin, atomEnv, baseURL } from '../env';

// An AI agent on the official MCP TypeScript client: it lists one user's connections, hands
// the user a connect link (the user opens it, the agent never does) and calls GitHub through
// the hub. No token reaches the agent.

function atom(...args: string[]): string {
  const r = spawnSync(atomBin, args, { env: { ...process.env, ...atomEnv }, encoding: 'utf8', timeout: 30_000 });
  const key = /atom_[A-Za-z0-9_-]{43}/.exec(r.stdout)?.[0];
  if (!key) throw new Error(`atom ${args.join(' ')}: ${r.status}\n${r.stdout}${r.stderr}`);
  return key;
}

type Text = { content: { type: string; text: string }[]; isError?: boolean };

test('an agent lists, links and calls through the hub without a token', async ({ page, request }) => {
  const backend = atom('apikey', 'create', '--name', `e2e-mcp-${Date.now()}`, '--scope', 'connections:write', '--scope', 'users:write');
  const user = `agent-user-${Date.now()}`;
  const portal = await request.post('/api/v1/portal-links', { headers: { Authorization: `Bearer ${backend}` }, data: { user_id: user } });
  expect(portal.status()).toBe(201);
  await page.goto((await portal.json()).url);
  await page.getByRole('button', { name: 'Open my connections' }).click();
  await page.locator('article[data-provider="github"]').getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByLabel('Login').fill(`${user}-gh`);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page.getByTestId('status-github')).toHaveText(`Connected as ${user}-gh`);

  const key = atom('apikey', 'create', '--name', `e2e-agent-${Date.now()}`, '--scope', 'mcp', '--user', user);
  const transport = new StreamableHTTPClientTransport(new URL(`${baseURL}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(['call_provider', 'connect_link', 'list_connections']);

  const listed = (await client.callTool({ name: 'list_connections', arguments: {} })) as Text;
  const connections = JSON.parse(listed.content[0].text).connections as { service: string; status: string; account?: { name: string } }[];
  expect(connections.find((c) => c.service === 'github')).toMatchObject({ status: 'connected', account: { name: `${user}-gh` } });
  expect(connections.find((c) => c.service === 'gmail')?.status).toBe('not_connected');

  // The agent hands the user a link for Gmail; the user opens it and connects.
  const linked = (await client.callTool({ name: 'connect_link', arguments: { service: 'gmail' } })) as Text;
  const url = /https?:\/\/\S+\/connect\/\S+/.exec(linked.content[0].text)?.[0];
  expect(url).toBeTruthy();
  await page.goto(url!);
  await page.getByRole('button', { name: 'Continue to Gmail' }).click();
  await page.getByLabel('Login').fill(`${user}-mail`);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page.getByRole('heading', { name: /^Gmail connected as/ })).toBeVisible();
  const relisted = (await client.callTool({ name: 'list_connections', arguments: {} })) as Text;
  expect(JSON.parse(relisted.content[0].text).connections.find((c: { service: string }) => c.service === 'gmail').status).toBe('connected');

  const called = (await client.callTool({ name: 'call_provider', arguments: { service: 'github', path: 'user' } })) as Text;
  expect(called.isError ?? false).toBe(false);
  const answer = JSON.parse(called.content[0].text);
  expect(answer.status).toBe(200);
  expect(answer.body.login).toBe(`${user}-gh`);
  expect(called.content[0].text).not.toMatch(/gho_|ghu_|sandbox-token|access_token/);

  // A key for another purpose is turned away at the door.
  const refused = new StreamableHTTPClientTransport(new URL(`${baseURL}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${backend}` } },
  });
  await expect(new Client({ name: 'not-an-agent', version: '1' }).connect(refused)).rejects.toThrow();
  await client.close();
});
