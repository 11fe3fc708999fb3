import { defineConfig } from '@playwright/test';
import { atomBin, baseURL, hubEnv, oidcEnv, oidcIssuer, secondHubEnv, secondURL } from './env';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  // One retry, reported as "flaky" in the list: in one full `make test` on 2 cores
  // (2026-11-30) the admin overview did not hydrate within 15 s, then took 2.2 s on a rerun.
  // A test that fails twice still fails the run.
  retries: 1,
  reporter: 'list',
  timeout: 30_000,
  globalSetup: './global-setup.ts',
  use: {
    baseURL,
    launchOptions: { executablePath: '/usr/bin/chromium' },
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      command: 'node oidc/server.mjs',
      url: `${oidcIssuer}/.well-known/openid-configuration`,
      env: oidcEnv,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: `"${atomBin}" serve`,
      url: `${baseURL}/healthz`,
      env: hubEnv,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: `"${atomBin}" serve`,
      url: `${secondURL}/healthz`,
      env: secondHubEnv,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
  ],
});
