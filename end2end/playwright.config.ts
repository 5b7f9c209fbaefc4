// Playwright runs the suite in Debian's Chromium (/usr/bin/chromium; no browser download) against
// the server binary that `cargo xtask e2e|test` built, started here with its own database.
import { defineConfig } from '@playwright/test';
import * as path from 'path';

const port = Number(process.env.E2E_PORT ?? 3010);
export const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, '..');

export default defineConfig({
  testDir: './tests',
  forbidOnly: true,
  retries: 0,
  workers: 1,
  timeout: 30_000,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: process.env.SERVER_BIN ?? path.join(root, 'target/debug/scimpad'),
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      SCIMPAD_BIND: `127.0.0.1:${port}`,
      SCIMPAD_PUBLIC_URL: baseURL,
      SCIMPAD_SECURE_COOKIES: 'false',
      SCIMPAD_LOG: 'warn',
      SCIMPAD_DATABASE_URL: process.env.SCIMPAD_DATABASE_URL ?? 'sqlite::memory:',
      SCIMPAD_SITE_ROOT: process.env.SCIMPAD_SITE_ROOT ?? path.join(root, 'target/site'),
    },
  },
});
