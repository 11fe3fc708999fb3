import { expect, test, type Page } from '@playwright/test';
import { ADMIN_USERNAME } from '../env';
import { clickIn, ensureDisconnected, hydrated, signIn, status } from './helpers';

// A hostile authorization server (the sandbox's /hostile, server/src/sandbox/hostile.rs) puts
// markup in the account name, email and id, the error code, error_description and error_uri.
// Nothing of it may become markup on the Connections page, the admin overview or the audit
// viewer. The checks look at the DOM, not only for alerts: the pages' CSP would stop an
// injected handler from running, and an injection is a bug even when CSP saves the day.
const NAME = `<img src=x onerror="alert('name')">`;

/** Every dialog a page opens (an alert from injected markup); the test expects none. */
function dialogs(page: Page): string[] {
  const opened: string[] = [];
  page.on('dialog', async (dialog) => {
    opened.push(dialog.message());
    await dialog.dismiss();
  });
  return opened;
}

/** Elements the hostile provider's strings would have made if rendered as HTML. */
async function expectNoInjectedMarkup(page: Page) {
  await expect(page.locator('img[src="x"], svg[onload], [onerror]')).toHaveCount(0);
  await expect(page.locator('script', { hasText: 'alert(' })).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:"]')).toHaveCount(0);
}

/** Connect on the Hostile card, then one of the hostile provider's buttons. */
async function choose(page: Page, behaviour: RegExp) {
  await clickIn(page, 'hostile', 'Connect');
  await expect(page.getByRole('heading', { name: 'Sandbox hostile provider' })).toBeVisible();
  await page.getByRole('button', { name: behaviour }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

async function adminPagesShowNoMarkup(page: Page) {
  for (const path of ['/admin', '/admin/audit']) {
    await page.goto(path);
    // Rendered on the server, then whatever the page's script adds once its requests settle.
    await page.waitForLoadState('networkidle');
    await expectNoInjectedMarkup(page);
  }
}

test('markup in a hostile account is text on every page', async ({ page }) => {
  const opened = dialogs(page);
  await signIn(page, ADMIN_USERNAME);
  await hydrated(page);
  await ensureDisconnected(page, 'hostile');
  await choose(page, /name and email are markup/);
  await expect(status(page, 'hostile')).toHaveText(`Connected as ${NAME}`);
  await hydrated(page);
  await expectNoInjectedMarkup(page);
  await adminPagesShowNoMarkup(page);
  await page.goto('/connections');
  await hydrated(page);
  await clickIn(page, 'hostile', 'Disconnect');
  await expect(status(page, 'hostile')).toHaveText('Not connected');
  expect(opened).toEqual([]);
});

test("a hostile provider's refusals and broken answers get the hub's own words", async ({ page }) => {
  const opened = dialogs(page);
  await signIn(page, ADMIN_USERNAME);
  await hydrated(page);
  await ensureDisconnected(page, 'hostile');
  await choose(page, /script as the description/);
  await expect(page.getByText('You cancelled the connection to Hostile. Nothing was stored.')).toBeVisible();
  await expectNoInjectedMarkup(page);
  await choose(page, /markup as the error code/);
  await expect(page.getByText('Connecting Hostile failed. Nothing was stored; please try again.')).toBeVisible();
  await expectNoInjectedMarkup(page);
  await choose(page, /with an HTML page/);
  await expect(page.getByText('Hostile did not accept the sign-in. Nothing was stored')).toBeVisible();
  await expectNoInjectedMarkup(page);
  await expect(status(page, 'hostile')).toHaveText('Not connected');
  await adminPagesShowNoMarkup(page);
  expect(opened).toEqual([]);
});
