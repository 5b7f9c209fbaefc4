// Checks every console page gets in responsive.spec.ts and keyboard.spec.ts: nothing wider than
// the window, no axe-core violation, and an organisation seeded so that pages have rows with long
// values (the kind that push a layout sideways).
import AxeBuilder from '@axe-core/playwright';
import { PATCH_OP, Page, createKey, entraUser, expect, open, scim, signUp, uniqueEmail } from './helpers';
import type { APIRequestContext, Browser, BrowserContext } from '@playwright/test';

/** The widths of a phone, a tablet and a laptop, in CSS pixels. */
export const WIDTHS = [390, 768, 1280] as const;

/**
 * Fails when the page scrolls sideways or a visible element reaches past the window's right
 * edge. Elements inside a box that clips or scrolls sideways (a table's scroll box, an SVG, an
 * ellipsis) are that box's business: the box itself is checked.
 */
export async function expectFits(page: Page, where: string): Promise<void> {
  const problems = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    const scroll = document.documentElement.scrollWidth;
    if (scroll > width) found.push(`the page scrolls sideways: ${scroll} px of content in ${width} px`);
    const describe = (el: Element) => {
      const id = el.id ? `#${el.id}` : '';
      const classes = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return `<${el.tagName.toLowerCase()}${id}${classes}> "${text}"`;
    };
    // An element inside a box that clips is that box's business, unless it escapes the box: a
    // fixed one, or an absolute one whose containing block is outside it.
    const walk = (el: Element, clipped: boolean, positioned: boolean) => {
      const style = getComputedStyle(el);
      const escapes = clipped && (style.position === 'fixed' || (style.position === 'absolute' && !positioned));
      const inside = clipped && !escapes;
      const box = el.getBoundingClientRect();
      if (!inside && box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && box.right > width + 0.5) {
        found.push(`${describe(el)} ends at ${Math.round(box.right)} px`);
      }
      const clipping = el !== document.documentElement && el !== document.body && style.overflowX !== 'visible';
      const isPositioned = style.position !== 'static';
      for (const child of Array.from(el.children)) {
        walk(child, inside || clipping, clipping ? isPositioned : (positioned || isPositioned));
      }
    };
    walk(document.body, false, false);
    return found.slice(0, 10);
  });
  expect(problems, `${where}: wider than the window`).toEqual([]);
}

/**
 * Fails on any axe-core violation (all of axe's default rules, WCAG 2 A/AA and best practices, or
 * only `rules`). Run in the page itself (legacy mode: our pages have no frames) and asked for
 * violations only, which takes a fraction of the default run's time.
 */
export async function expectAxeClean(page: Page, where: string, rules?: string[]): Promise<void> {
  const axe = new AxeBuilder({ page }).setLegacyMode().options({ resultTypes: ['violations'] });
  const { violations } = await (rules ? axe.withRules(rules) : axe).analyze();
  const found = violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `${where}: axe-core violations`).toEqual([]);
}

/** Opens every `<details>` on the page, so their contents are checked too. */
export async function expandAll(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
}

/** What `seedOrganisation` made. */
export interface Seeded {
  email: string;
  secret: string;
  userId: string;
  groupId: string;
}

/**
 * Signs up an admin of an organisation with a long name and has "Entra" provision people (one
 * with a very long email address), a group with a long name, and a failed request, so every list
 * has rows and the provisioning log has an error; claims a long email domain for SSO.
 */
export async function seedOrganisation(page: Page, request: APIRequestContext): Promise<Seeded> {
  const email = uniqueEmail('layout');
  await signUp(page, email, 'Ada Admin-Lovelace', 'Contoso Pharmaceuticals International Research Division');
  const secret = await createKey(page);
  const api = scim(request, secret);
  const suffix = Date.now();
  const people = [
    [`maximilian.alexander.featherstonehaugh-worthington.${suffix}@research.contoso-pharmaceuticals.example`, 'Maximilian', 'Featherstonehaugh-Worthington'],
    [`alice.${suffix}@contoso.example`, 'Alice', 'Smith'],
    [`bob.${suffix}@contoso.example`, 'Bob', 'Jones'],
  ];
  const ids: string[] = [];
  for (const [userName, given, family] of people) {
    const res = await api.post('/Users', entraUser(userName, given, family));
    expect(res.status()).toBe(201);
    ids.push((await res.json()).id);
  }
  expect((await api.post('/Users', entraUser(people[1][0], 'Alice', 'Again'))).status()).toBe(409);
  const group = await api.post('/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: `Clinical Research and Regulatory Affairs Working Group ${suffix}`,
    externalId: `f1c8a2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b-${suffix}`,
  });
  expect(group.status()).toBe(201);
  const groupId = (await group.json()).id;
  expect((await api.patch(`/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [
    { op: 'Add', path: 'members', value: ids.map((value) => ({ value })) }] })).status()).toBe(204);
  await open(page, '/settings/sso');
  await page.getByLabel('Add a domain').fill(`sign-in-${suffix}.clinical-research.contoso-pharmaceuticals.example`);
  await page.getByTestId('add-domain').click();
  await expect(page.getByTestId('domain-claim')).toHaveCount(1);
  return { email, secret, userId: ids[0], groupId };
}

/** A signed-in browser state, to open pages as the seeded admin. */
export type Session = Awaited<ReturnType<BrowserContext['storageState']>>;

/** Seeds an organisation (see `seedOrganisation`) in a browser context of its own: its data and
 * its admin's signed-in session, for a spec's `beforeAll`. */
export async function seededSession(browser: Browser): Promise<{ seeded: Seeded; session: Session }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seeded = await seedOrganisation(page, context.request);
  const session = await context.storageState();
  await context.close();
  return { seeded, session };
}
