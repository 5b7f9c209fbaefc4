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
// A second instance of the app, on the same database, that sends email through the test SMTP
// server; the email specs run against it (`test.use({ baseURL: mailBaseURL })`), the rest against
// the first, which has no SMTP relay (the embedded default).
export const mailBaseURL = `http://127.0.0.1:${port + 1}`;
const smtpPort = port + 6030;
export const smtpControl = `http://127.0.0.1:${port + 6031}`;

const databaseURL = process.env.SCIMPAD_DATABASE_URL ?? 'sqlite::memory:';
// SQLite is one instance's embedded store: the second instance gets a file of its own (xtask
// deletes both before a run). On PostgreSQL both share the database, as scaled-out instances do.
const mailDatabaseURL = databaseURL.startsWith('sqlite:') ? databaseURL.replace(/\.db\b/, '-mail.db') : databaseURL;

/** The app server on `url` over `database`, with extra environment. */
function app(url: string, database: string, env: Record<string, string> = {}) {
  return {
    command: process.env.SERVER_BIN ?? path.join(root, 'target/debug/scimpad'),
    cwd: root,
    url: `${url}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      SCIMPAD_BIND: new URL(url).host,
      SCIMPAD_PUBLIC_URL: url,
      SCIMPAD_SECURE_COOKIES: 'false',
      SCIMPAD_LOG: 'warn',
      SCIMPAD_DATABASE_URL: database,
      SCIMPAD_SITE_ROOT: process.env.SCIMPAD_SITE_ROOT ?? path.join(root, 'target/site'),
      SCIMPAD_SECRET_KEY: 'ZTJlLXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcy0tLS0=',
      SCIMPAD_OIDC_ISSUER_HOSTS: 'localhost',
      SCIMPAD_DNS_RESOLVER: `127.0.0.1:${dnsPort}`,
      ...env,
    },
  };
}

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
    app(baseURL, databaseURL),
    app(mailBaseURL, mailDatabaseURL, {
      SCIMPAD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SCIMPAD_SMTP_FROM: 'Scimpad <no-reply@scimpad.test>',
    }),
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
    {
      command: 'node idp/smtp.mjs',
      url: `${smtpControl}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { SMTP_PORT: String(smtpPort), SMTP_CONTROL_PORT: String(port + 6031) },
    },
  ],
});
