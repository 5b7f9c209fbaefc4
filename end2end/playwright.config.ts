// Playwright runs the suite in Debian's Chromium (/usr/bin/chromium; no browser download) against
// the server binary that `cargo xtask e2e|test` built, started here with its own database.
import { defineConfig } from '@playwright/test';
import * as path from 'path';

const port = Number(process.env.E2E_PORT ?? 3010);
export const baseURL = `http://127.0.0.1:${port}`;
// The test identity providers run on `localhost`, the app on `127.0.0.1`: different sites, so
// cookies behave as they do between Entra and a real deployment (SameSite matters).
export const tenant = '7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10';
export const oidcIssuer = `http://localhost:${port + 6000}/${tenant}/v2.0`;
export const samlIdp = `http://localhost:${port + 6010}`;
// The DNS server SSO domain verification asks (UDP), and its HTTP control endpoint, where tests
// publish and withdraw TXT records.
const dnsPort = port + 6020;
export const dnsControl = `http://127.0.0.1:${port + 6021}`;
const idpEnv = { IDP_HOST: 'localhost', IDP_TENANT: tenant };
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
  webServer: [
    {
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
        SCIMPAD_SECRET_KEY: 'ZTJlLXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcy0tLS0=',
        SCIMPAD_OIDC_ISSUER_HOSTS: 'localhost',
        SCIMPAD_DNS_RESOLVER: `127.0.0.1:${dnsPort}`,
      },
    },
    {
      command: 'node idp/oidc.mjs',
      url: `http://localhost:${port + 6000}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { ...idpEnv, OIDC_IDP_PORT: String(port + 6000), OIDC_REDIRECT_URIS: `${baseURL}/sso/oidc/callback` },
    },
    {
      command: 'node idp/saml.mjs',
      url: `http://localhost:${port + 6010}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { ...idpEnv, SAML_IDP_PORT: String(port + 6010) },
    },
    {
      command: 'node idp/dns.mjs',
      url: `${dnsControl}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { DNS_PORT: String(dnsPort), DNS_CONTROL_PORT: String(port + 6021) },
    },
  ],
});
