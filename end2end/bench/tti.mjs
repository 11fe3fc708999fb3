// Time to interactive of the Connections page in headless Chromium: from navigation start
// until the app has hydrated (its buttons answer without a full page load), over RUNS loads.
// `node bench/tti.mjs HUB USER PASSWORD RUNS` prints JSON. Loopback only.
import { chromium } from '@playwright/test';

const [hub, username, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${hub}/signin`);
await page.getByLabel('Username').fill(username);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in', exact: true }).click();
await page.waitForURL(/\/connections$/);

const measure = async () => {
  await page.goto(`${hub}/connections`, { waitUntil: 'commit' });
  await page.locator('[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { interactive: performance.now(), firstContent: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? nav.responseEnd };
  });
};
await measure(); // warm the cache once, as a returning user
const cold = await (async () => {
  const fresh = await browser.newContext({ storageState: await context.storageState() });
  const p = await fresh.newPage();
  await p.goto(`${hub}/connections`, { waitUntil: 'commit' });
  await p.locator('[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
  const t = await p.evaluate(() => performance.now());
  await fresh.close();
  return t;
})();
const samples = [];
for (let i = 0; i < runs; i++) samples.push(await measure());
const sorted = (k) => samples.map((s) => s[k]).sort((a, b) => a - b);
const pct = (list, p) => list[Math.max(0, Math.ceil((p / 100) * list.length) - 1)];
const tti = sorted('interactive');
const fcp = sorted('firstContent');
console.log(JSON.stringify({
  runs, cold_ms: Math.round(cold),
  tti_p50_ms: Math.round(pct(tti, 50)), tti_p95_ms: Math.round(pct(tti, 95)),
  fcp_p50_ms: Math.round(pct(fcp, 50)),
}));
await browser.close();
