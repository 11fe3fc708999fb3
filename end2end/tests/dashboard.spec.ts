// The dashboard journeys: a user's Connections page (two providers, a revoked grant turned into
// Reconnect, with and without JavaScript) and the admin's live overview and provider switch.
import { expect, test, type Page } from '@playwright/test';
import { ADMIN_USERNAME } from '../env';
import { card, clickIn, connectGithub, connectSandbox, ensureDisconnected, hydrated, screenshots, signIn, SIZES, status } from './helpers';

const USER = 'dana';
const SANDBOX = 'http://127.0.0.1:5159';

/** Connect GitHub at the sandbox as `login` (Reconnect or Connect, whichever the card offers). */
async function connectGithubAs(page: Page, login: string, button: 'Connect' | 'Reconnect' = 'Connect') {
  await card(page, 'github').getByRole('button', { name: button, exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Sandbox GitHub', exact: true })).toBeVisible();
  await page.getByLabel('Login').fill(login);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

/** Removes ATOM Connect at the provider, as the user would in their account settings there. */
async function revokeAtProvider(page: Page, login: string) {
  const tab = await page.context().newPage();
  await tab.goto(`${SANDBOX}/apps`);
  await tab.getByRole('button', { name: `Revoke sandbox-github for ${login}` }).click();
  await expect(tab.getByRole('button', { name: `Revoke sandbox-github for ${login}` })).toHaveCount(0);
  await tab.close();
}

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });
    const ready = async (page: Page) => { if (js) await hydrated(page); };

    test('a user connects two providers and disconnects one', async ({ page }) => {
      await signIn(page, USER);
      await ready(page);
      await ensureDisconnected(page, 'github');
      await ensureDisconnected(page, 'dropbox');
      await expect(card(page, 'github').getByText(/^Connect takes you to GitHub, where you approve access/)).toBeVisible();
      await expect(card(page, 'github').locator('img[src="/logos/github.svg"]')).toBeVisible();

      await connectGithubAs(page, `${USER}-gh`);
      await expect(page.getByText('GitHub connected.')).toBeVisible();
      await ready(page);
      await connectSandbox(page, 'dropbox', 'Dropbox');
      await expect(status(page, 'github')).toHaveText(`Connected as ${USER}-gh`);
      await expect(status(page, 'dropbox')).toHaveText('Connected as Sandbox User');
      await expect(card(page, 'dropbox').getByText(/^Allowed to: read your account details, see your files' names and details$/)).toBeVisible();
      await expect(card(page, 'dropbox').getByText(/^Connected \d{4}-\d\d-\d\d \d\d:\d\d UTC$/)).toBeVisible();

      await ready(page);
      await clickIn(page, 'github', 'Disconnect');
      await expect(status(page, 'github')).toHaveText('Not connected');
      await expect(status(page, 'dropbox')).toHaveText('Connected as Sandbox User');
      await page.reload();
      await expect(status(page, 'dropbox')).toHaveText('Connected as Sandbox User');
      await ready(page);
      await clickIn(page, 'dropbox', 'Disconnect');
      await expect(status(page, 'dropbox')).toHaveText('Not connected');
    });

    test('access revoked at the provider turns the card to Reconnect, and reconnecting fixes it', async ({ page }) => {
      const login = `${USER}-revoked-${js ? 'js' : 'nojs'}`;
      await signIn(page, USER);
      await ready(page);
      await ensureDisconnected(page, 'github');
      await connectGithubAs(page, login);
      await expect(status(page, 'github')).toHaveText(`Connected as ${login}`);
      await ready(page);

      await revokeAtProvider(page, login);
      // The hub's liveness check notices within seconds; with JavaScript the card changes by
      // itself, without it the next page load shows it.
      if (js) {
        await expect(status(page, 'github')).toHaveText('Needs attention', { timeout: 10_000 });
      } else {
        await expect(async () => {
          await page.reload();
          await expect(status(page, 'github')).toHaveText('Needs attention', { timeout: 500 });
        }).toPass({ timeout: 10_000 });
      }
      await expect(page.getByTestId('attention-github')).toHaveText(/^GitHub no longer accepts this connection/);
      await connectGithubAs(page, login, 'Reconnect');
      await expect(status(page, 'github')).toHaveText(`Connected as ${login}`);
      await expect(page.getByTestId('attention-github')).toHaveCount(0);
      await ready(page);
      await clickIn(page, 'github', 'Disconnect');
      await expect(status(page, 'github')).toHaveText('Not connected');
    });

    test('an admin turns a provider off and on', async ({ page, browser }) => {
      await signIn(page, ADMIN_USERNAME);
      await page.goto('/admin/providers');
      const asana = page.locator('article[data-provider="asana"]');
      await expect(asana.locator('img[src="/logos/asana.svg"]')).toBeVisible();
      await expect(page.getByTestId('enabled-asana')).toHaveText('Users can connect it.');

      const user = await browser.newContext({ javaScriptEnabled: js });
      const userPage = await user.newPage();
      await signIn(userPage, USER);
      await ready(userPage);
      await ensureDisconnected(userPage, 'asana');

      await asana.getByRole('button', { name: 'Turn off Asana' }).click();
      await expect(page.getByText(/^Provider turned off/)).toBeVisible();
      await expect(page.getByTestId('enabled-asana')).toHaveText('Turned off: no new connections.');
      if (!js) await userPage.reload();
      await expect(card(userPage, 'asana')).toHaveCount(0, { timeout: 5_000 });

      await page.locator('article[data-provider="asana"]').getByRole('button', { name: 'Turn on Asana' }).click();
      await expect(page.getByText(/^Provider turned on/)).toBeVisible();
      if (!js) await userPage.reload();
      await expect(card(userPage, 'asana')).toHaveCount(1, { timeout: 5_000 });
      await user.close();
    });
  });
}

test('a second tab sees a connection change live, without a reload', async ({ page, context }) => {
  await signIn(page, USER);
  await hydrated(page);
  await ensureDisconnected(page, 'dropbox');
  const other = await context.newPage();
  await other.goto('/connections');
  await hydrated(other);
  await other.evaluate(() => { (window as any).__sameDocument = true; });
  await connectSandbox(page, 'dropbox', 'Dropbox');
  await expect(status(other, 'dropbox')).toHaveText('Connected as Sandbox User', { timeout: 5_000 });
  await hydrated(page);
  await clickIn(page, 'dropbox', 'Disconnect');
  await expect(status(other, 'dropbox')).toHaveText('Not connected', { timeout: 5_000 });
  expect(await other.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('after a network drop the page catches up with what changed meanwhile', async ({ page, browser }) => {
  await signIn(page, USER);
  await hydrated(page);
  await ensureDisconnected(page, 'dropbox');
  await page.evaluate(() => { (window as any).__sameDocument = true; });
  await page.context().setOffline(true);
  // Meanwhile, the same user connects Dropbox from another browser.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, USER);
  await hydrated(otherPage);
  await connectSandbox(otherPage, 'dropbox', 'Dropbox');
  // The stream may still announce the change, but the page cannot fetch it: it keeps the
  // cards it has and says so.
  await expect(page.getByText(/^The hub could not be reached: what you see may be out of date/)).toBeVisible();
  await expect(status(page, 'dropbox')).toHaveText('Not connected');
  await page.context().setOffline(false);
  // Back online, the page reloads its data by itself.
  await expect(status(page, 'dropbox')).toHaveText('Connected as Sandbox User', { timeout: 15_000 });
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await hydrated(otherPage);
  await clickIn(otherPage, 'dropbox', 'Disconnect');
  await other.close();
});

test('the admin overview shows flows live and switches period', async ({ page, context }) => {
  await signIn(page, ADMIN_USERNAME);
  await page.goto('/admin?window=hour');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Overview', exact: true })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Connect flows over time, by outcome' })).toBeVisible();
  const count = async (id: string) => Number(await page.getByTestId(`count-${id}`).textContent());
  const [started, completed] = [await count('started'), await count('completed')];
  await page.evaluate(() => { (window as any).__sameDocument = true; });

  // The admin connects GitHub in another tab; the overview follows without a reload.
  const tab = await context.newPage();
  await tab.goto('/connections');
  await hydrated(tab);
  await ensureDisconnected(tab, 'github');
  await connectGithubAs(tab, 'root-gh');
  await expect(page.getByTestId('count-started')).toHaveText(String(started + 1), { timeout: 5_000 });
  await expect(page.getByTestId('count-completed')).toHaveText(String(completed + 1), { timeout: 5_000 });
  await expect(page.getByTestId('recent-events').locator('li[data-event="connection.created"]').first()).toBeVisible();
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await hydrated(tab);
  await clickIn(tab, 'github', 'Disconnect');

  // The table under the chart has the same numbers.
  await page.getByText('Show as table').first().click();
  await expect(page.getByRole('table', { name: 'Connect flows over time, by outcome' })).toBeVisible();
  await page.getByRole('link', { name: 'Last 7 days' }).click();
  await expect(page).toHaveURL(/\/admin\?window=week$/);
  await expect(page.getByRole('link', { name: 'Last 7 days' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('heading', { name: 'Connect flows, last 7 days' })).toBeVisible();
  await page.goto('/admin?window=day');
  await hydrated(page);
  await screenshots(page, 'admin-overview-with-flows');
});

test.describe('the overview without JavaScript', () => {
  test.use({ javaScriptEnabled: false });
  test('renders its charts and period links on the server', async ({ page }) => {
    await signIn(page, ADMIN_USERNAME);
    await page.goto('/admin');
    await expect(page.getByRole('img', { name: 'Connect flows over time, by outcome' })).toBeVisible();
    await page.getByRole('link', { name: 'Last hour' }).click();
    await expect(page).toHaveURL(/\/admin\?window=hour$/);
    await expect(page.getByRole('heading', { name: 'Connect flows, last hour' })).toBeVisible();
    expect(Number(await page.getByTestId('count-started').textContent())).toBeGreaterThan(0);
  });
});

test("the overview's bar labels are whole, on a phone too", async ({ page }) => {
  await signIn(page, ADMIN_USERNAME);
  await hydrated(page);
  await ensureDisconnected(page, 'github');
  await connectGithub(page, 'Cancel'); // a failed flow: "Cancelled by the user"
  for (const viewport of [SIZES.desktop, SIZES.phone]) {
    await page.setViewportSize(viewport);
    await page.goto('/admin?window=day');
    await hydrated(page);
    const failures = page.locator('section[aria-labelledby="failures-heading"]');
    await expect(failures.locator('[data-bar-label]', { hasText: 'Cancelled by the user' })).toBeVisible();
    for (const label of await page.locator('[data-bar-label]').all()) {
      // Nothing cut: the text fits its box (it wraps), and the box is inside its own card.
      const [cut, outside] = await label.evaluate((el) => {
        const own = el.getBoundingClientRect();
        const card = el.closest('section')!.getBoundingClientRect();
        return [el.scrollWidth > el.clientWidth + 1, own.left < card.left || own.right > card.right];
      });
      const what = `${await label.textContent()} at ${viewport.width}px`;
      expect(cut, what).toBe(false);
      expect(outside, what).toBe(false);
    }
  }
});
