// Accessibility: axe (WCAG 2.0/2.1 A and AA) finds no serious or critical violation on any page.
// Each page is also screenshotted at desktop and phone size into end2end/screenshots/ for people
// to look at; a screenshot that cannot be written never fails the test.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN_USERNAME, USERNAME } from '../env';
import { hydrated, screenshots, signIn, SIZES } from './helpers';

type Result = Awaited<ReturnType<AxeBuilder['analyze']>>;

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

type Visit = {
  name: string; // screenshot file prefix
  path: string;
  user?: string; // signed out when absent
  status?: number;
  ready?: (page: Page) => Promise<void>;
  skipRules?: string[]; // only for server-rendered pages this crate cannot fix (say why)
};

const VISITS: Visit[] = [
  { name: 'signin', path: '/signin' },
  { name: 'setup', path: '/setup' },
  { name: 'connections', path: '/connections', user: USERNAME, ready: hydrated },
  { name: 'account', path: '/account', user: USERNAME },
  { name: 'admin-overview', path: '/admin', user: ADMIN_USERNAME, ready: hydrated },
  { name: 'admin-users', path: '/admin/users', user: ADMIN_USERNAME },
  { name: 'admin-keys', path: '/admin/keys', user: ADMIN_USERNAME },
  { name: 'admin-audit', path: '/admin/audit', user: ADMIN_USERNAME },
  { name: 'admin-providers', path: '/admin/providers', user: ADMIN_USERNAME },
  { name: 'not-found', path: '/no/such/page', status: 404 },
  // Rendered by the server (server/src/http/error.rs), not by the Leptos app.
  { name: 'forbidden', path: '/admin/users', user: USERNAME, status: 403 },
];

for (const visit of VISITS) {
  test(`a11y: ${visit.name} (${visit.path}${visit.user ? ` as ${visit.user}` : ''})`, async ({ page }) => {
    await page.setViewportSize(SIZES.desktop);
    if (visit.user) await signIn(page, visit.user);
    const response = await page.goto(visit.path);
    expect(response?.status()).toBe(visit.status ?? 200);
    await expect(page).toHaveURL(new RegExp(`${visit.path}$`));
    if (visit.ready) await visit.ready(page);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

    let axe = new AxeBuilder({ page }).withTags(TAGS);
    if (visit.skipRules?.length) axe = axe.disableRules(visit.skipRules);
    const result = await axe.analyze();

    await screenshots(page, visit.name);

    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => v.id), `axe on ${visit.path}:\n${describe(serious)}`).toEqual([]);
  });
}

/** Each violation with what to fix and where: id, impact, help, selectors. */
function describe(violations: Result['violations']): string {
  return violations
    .map((v) => {
      const nodes = v.nodes.map((n) => {
        const why = (n.failureSummary ?? '').split('\n').slice(1, 2).join('').trim();
        return `    ${n.target.join(' ')}${why ? `  — ${why}` : ''}`;
      });
      return `  ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})\n${nodes.join('\n')}`;
    })
    .join('\n');
}
