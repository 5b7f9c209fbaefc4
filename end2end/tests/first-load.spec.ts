// The console's first load (issue 14): on a cold cache, the Users page's bytes on the wire (the
// wasm apart) and the time until it is hydrated; then a second visit, which must take the wasm
// from the cache. `cargo xtask bench` runs this against the release build with
// FIRST_LOAD_REPORT=<file>, where the figures are written for it to print.
import * as fs from 'fs';
import { expect, signUp, test, uniqueEmail } from './helpers';

interface Load {
  /** Bytes on the wire (headers and compressed bodies) of every response. */
  total: number;
  /** Of those, the wasm's. */
  wasm: number;
  /** The wasm response's Content-Encoding and Cache-Control. */
  wasmEncoding: string;
  wasmCaching: string;
  /** Milliseconds from navigation to a hydrated page. */
  hydratedMs: number;
}

test('the Users page loads compressed on a cold cache and from the cache after', async ({ browser, page }) => {
  const email = uniqueEmail('firstload');
  await signUp(page, email);
  const cookies = await page.context().cookies();

  // A new context has an empty HTTP cache: a first visit, signed in with the same session.
  const context = await browser.newContext();
  await context.addCookies(cookies);
  const visit = await context.newPage();
  const cdp = await context.newCDPSession(visit);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const headers = new Map<string, Record<string, string>>();
  let bytes: { url: string; size: number }[] = [];
  cdp.on('Network.responseReceived', (e) => {
    urls.set(e.requestId, e.response.url);
    headers.set(e.requestId, e.response.headers);
  });
  cdp.on('Network.loadingFinished', (e) => bytes.push({ url: urls.get(e.requestId) ?? '', size: e.encodedDataLength }));

  const load = async (): Promise<Load> => {
    bytes = [];
    const started = Date.now();
    await visit.goto('/users');
    await expect(visit.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const hydratedMs = Date.now() - started;
    await visit.waitForLoadState('networkidle');
    const wasmId = [...urls.entries()].reverse().find(([, url]) => url.endsWith('/scimpad.wasm'))?.[0] ?? '';
    const wasmHeaders = Object.fromEntries(Object.entries(headers.get(wasmId) ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      total: bytes.reduce((sum, b) => sum + b.size, 0),
      wasm: bytes.filter((b) => b.url.endsWith('/scimpad.wasm')).reduce((sum, b) => sum + b.size, 0),
      wasmEncoding: wasmHeaders['content-encoding'] ?? 'none',
      wasmCaching: wasmHeaders['cache-control'] ?? 'none',
      hydratedMs,
    };
  };

  const cold = await load();
  expect(cold.wasmEncoding).toBe('br');
  expect(cold.wasmCaching).toContain('immutable');
  expect(cold.wasm).toBeGreaterThan(0);
  const warm = await load();
  expect(warm.wasm, 'the second visit takes the wasm from the cache').toBeLessThan(1000);
  await context.close();

  const figures = { cold, warm };
  console.log(`first load of /users: ${JSON.stringify(figures)}`);
  test.info().annotations.push({ type: 'first load', description: JSON.stringify(figures) });
  if (process.env.FIRST_LOAD_REPORT) fs.writeFileSync(process.env.FIRST_LOAD_REPORT, JSON.stringify(figures));
});
