import { defineConfig } from '@playwright/test';
import { atomBin, baseURL, hubEnv, oidcEnv, oidcIssuer, secondHubEnv, secondURL } from './env';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  retries: 0,
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
