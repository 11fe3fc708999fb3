import { expect, test, type Locator, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { PASSWORD, USERNAME } from '../env';

export async function signIn(page: Page, username = USERNAME, password = PASSWORD) {
  await page.goto('/signin');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByRole('heading', { name: 'Connections', exact: true })).toBeVisible();
}

/** Waits until the Leptos app has hydrated (only where JavaScript is enabled): the debug
 *  build's wasm once took over the default 5 s on the admin overview in a full run. */
export async function hydrated(page: Page) {
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached({ timeout: 15_000 });
}

export const card = (page: Page, service: string): Locator => page.locator(`article[data-provider="${service}"]`);
export const status = (page: Page, service: string): Locator => page.getByTestId(`status-${service}`);

export async function clickIn(page: Page, service: string, button: 'Connect' | 'Disconnect') {
  if (button === 'Disconnect') {
    // Disconnect asks first: open the disclosure, then confirm.
    await card(page, service).getByText('Disconnect', { exact: true }).click();
    await card(page, service).getByRole('button', { name: /^Yes, disconnect / }).click();
    return;
  }
  await card(page, service).getByRole('button', { name: button, exact: true }).click();
}

/** Leaves the service disconnected, whatever an earlier test left behind. */
export async function ensureDisconnected(page: Page, service: string) {
  if ((await status(page, service).textContent())?.trim() !== 'Not connected') {
    await clickIn(page, service, 'Disconnect');
  }
  await expect(status(page, service)).toHaveText('Not connected');
}

/** From /connections: Connect on the github card, then Authorize (or Cancel) at the sandbox. */
export async function connectGithub(page: Page, choice: 'Authorize' | 'Cancel' = 'Authorize') {
  await clickIn(page, 'github', 'Connect');
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:5159\//);
  await expect(page.getByRole('heading', { name: /Sandbox GitHub/ })).toBeVisible();
  await expect(page.getByLabel('Login')).toHaveValue('sandbox-user');
  await page.getByRole('button', { name: choice, exact: true }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

/** From /connections: Connect on a sandboxed service's card, then Authorize (or Cancel) at the
 *  sandbox's consent page, headed "Sandbox <provider>". */
export async function connectSandbox(page: Page, service: string, provider: string, choice: 'Authorize' | 'Cancel' = 'Authorize') {
  await clickIn(page, service, 'Connect');
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:5159\//);
  await expect(page.getByRole('heading', { name: `Sandbox ${provider}`, exact: true })).toBeVisible();
  await expect(page.getByLabel('Login')).toHaveValue('sandbox-user');
  await page.getByRole('button', { name: choice, exact: true }).click();
  await expect(page).toHaveURL(/^http:\/\/localhost:5158\/connections/);
}

export const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};
const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/** Full-page screenshots at each size; a failure is noted on the test, never fails it. */
export async function screenshots(page: Page, name: string) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    try {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: `${SHOTS}${name}-${size}.png`, fullPage: true });
    } catch (error) {
      test.info().annotations.push({ type: 'warning', description: `screenshot ${name}-${size}: ${error}` });
    }
  }
}

