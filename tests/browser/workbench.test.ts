/**
 * The workbench page in Debian's chromium (playwright-core, never a downloaded browser) against a
 * real nats-server, the three services on a gated sim provider, and the gateway serving the page.
 * The page is opened with `#token=<jwt>` signed with the secret the gateway is given.
 * Screenshots go to test-results/browser/. To refresh the README's screenshot:
 *   WORKBENCH_DOCS_SCREENSHOT=$PWD/docs/workbench.png npx vitest run -c vitest.browser.config.ts
 */

import { join } from 'node:path';
import { Subjects, TabState } from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumMissing, hasChromium, launchChromium, PageMesh, ResultsDir } from './support/page-mesh.js';
import { mintToken, newJwtSecret } from './support/tokens.js';

// Missing Chromium fails the suite with the fix in the message: a browser test never passes by not running.
if (!hasChromium) throw new Error(chromiumMissing);

const Timeout = 10_000;
const secret = newJwtSecret();

/** Chromium's own console lines for refused handshakes and 401/403 answers; the page handles those. */
const expectedConsole = (text: string) =>
  /^WebSocket connection to .* failed/.test(text) || /status of 40[13] \(/.test(text);

describe('workbench page in Chromium', () => {
  let m: PageMesh;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: string;
  let task: string;
  let token: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [m, browser] = await Promise.all([PageMesh.start({ TABMESH_JWT_SECRET: secret }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await m?.stop();
  });
  beforeEach(async () => {
    org = uniqueId('org');
    task = uniqueId('task');
    m.provider.release();
    m.provider.sim.failRate = 0;
    pageErrors.length = 0;
    context = await browser.newContext({
      viewport: { width: 1280, height: 760 },
      colorScheme: 'dark',
      deviceScaleFactor: 1,
    });
    page = await context.newPage();
    page.setDefaultTimeout(Timeout);
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !expectedConsole(msg.text())) pageErrors.push(msg.text());
    });
    token = await mintToken(secret);
    await page.goto(signedIn(org, task, token));
    await page.locator('#conn[data-state="open"]').waitFor();
    await page.locator('[data-testid="empty"]').waitFor();
  });
  afterEach(async (ctx) => {
    await page.screenshot({ path: join(ResultsDir, `${slug(ctx.task.name)}.png`) }).catch(() => {});
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  const signedIn = (o: string, t: string, jwt: string) => `${m.pageUrl(o, t)}#token=${encodeURIComponent(jwt)}`;
  const tabItem = (id: string) => page.locator(`.tab-item[data-tab-id="${id}"]`);
  const tabItems = () => page.locator('.tab-item');
  const panel = () => page.locator('#panel');

  /** Opens a tab from the form; returns its id once the strip shows it. */
  async function openTab(title: string, model?: string): Promise<string> {
    const before = await tabItems().count();
    await page.fill('#new-title', title);
    if (model) await page.fill('#new-model', model);
    await page.click('#create-tab');
    await expect.poll(() => tabItems().count(), { timeout: Timeout }).toBe(before + 1);
    // A new tab is selected once its create returns (its first frame may come before or after).
    await expect.poll(() => page.locator('.tab-item.selected .tab-title').textContent()).toBe(title);
    const id = await page.locator('.tab-item.selected').getAttribute('data-tab-id');
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    return id!;
  }

  it('opens a tab that shows "Preparing environment" with a disabled composer, then ready with agent, model and session', async () => {
    m.provider.hold();
    const id = await openTab('Refactor auth', 'sim-large');
    await expect.poll(() => panel().getAttribute('data-state')).toBe(TabState.PendingProvision);
    await expect.poll(() => panel().locator('h3').textContent()).toBe('Preparing environment');
    await expect.poll(() => panel().getByTestId('step').textContent()).toMatch(/Starting agent/);
    await expect.poll(() => page.getByTestId('task-state').textContent()).toMatch(/provisioning/);
    expect(await panel().getByTestId('composer').isDisabled()).toBe(true);
    await page.screenshot({ path: join(ResultsDir, 'pending.png') });

    m.provider.release();
    await expect.poll(() => tabItem(id).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await expect.poll(() => panel().getAttribute('data-state')).toBe(TabState.Ready);
    expect(await panel().getByTestId('agent').textContent()).toBe('mock');
    expect(await panel().getByTestId('model').textContent()).toBe('sim-large');
    expect(await panel().getByTestId('session').textContent()).toMatch(/^sim-session-/);
    const composer = panel().getByTestId('composer');
    expect(await composer.isEnabled()).toBe(true);
    const server = await m.mesh.tab(org, task, id);
    expect(server?.sessionId).toBe(await panel().getByTestId('session').textContent());
  });

  it('closes a pending tab, and the server never finishes it', async () => {
    m.provider.hold();
    const id = await openTab('Throwaway');
    await expect.poll(() => tabItem(id).getAttribute('data-state')).toBe(TabState.PendingProvision);
    await tabItem(id).locator('.tab-close').click();
    await expect.poll(() => tabItem(id).count()).toBe(0);
    await page.getByTestId('empty').waitFor();
    expect((await m.mesh.tab(org, task, id))?.state).toBe(TabState.Closed);
    m.provider.release();
    await m.mesh.waitForState(org, task, id, [TabState.Closed]);
    expect(await tabItems().count()).toBe(0);
  });

  it('shows a failed tab with its message and Retry, which brings it to ready once the failure is lifted', async () => {
    m.provider.sim.failRate = 1;
    const id = await openTab('Doomed at first');
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 30_000 }).toBe(TabState.Error);
    expect(await tabItem(id).getAttribute('data-state')).toBe(TabState.Error);
    expect(await panel().getByTestId('error-message').textContent()).toMatch(/failed \(simulated\)/);
    expect(await panel().locator('[role="alert"]').count()).toBe(1);
    await page.screenshot({ path: join(ResultsDir, 'error.png') });

    m.provider.sim.failRate = 0;
    m.provider.hold();
    await panel().locator('[data-action="retry"]').click();
    await expect.poll(() => panel().getAttribute('data-state')).toMatch(/^pending_/);
    expect(await panel().locator('h3').textContent()).toBe('Preparing environment');
    m.provider.release();
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    expect((await m.mesh.tab(org, task, id))?.state).toBe(TabState.Ready);
    expect(await page.locator('#notice').isHidden()).toBe(true);
  });

  it('closes an error tab from its panel', async () => {
    m.provider.sim.failRate = 1;
    const id = await openTab('Fails, then closed');
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 30_000 }).toBe(TabState.Error);
    await panel().getByRole('button', { name: 'Close tab' }).first().click();
    await expect.poll(() => tabItem(id).count()).toBe(0);
    expect((await m.mesh.tab(org, task, id))?.state).toBe(TabState.Closed);
  });

  it('works from the keyboard: arrows move, Enter and Space select and clear the unread dot, Delete closes', async () => {
    m.provider.hold();
    const a = await openTab('Alpha');
    const b = await openTab('Beta');
    m.provider.release();
    await expect.poll(() => tabItem(a).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await expect.poll(() => tabItem(b).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    // Beta was selected when it became ready, so it was read at once; Alpha was not.
    await expect.poll(() => tabItem(a).locator('.unread-dot').count()).toBe(1);
    await expect.poll(() => tabItem(b).locator('.unread-dot').count()).toBe(0);
    expect((await m.mesh.tab(org, task, a))?.unread).toBe(true);

    const focused = () =>
      page.evaluate(() => document.activeElement?.getAttribute('data-tab-id') ?? document.activeElement?.className);
    await page.locator(`#tab-${b}`).focus();
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toBe(a);
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(ring).toBe('solid');
    expect(await tabItem(a).getAttribute('class')).not.toContain('selected');
    expect(await tabItem(a).locator('.unread-dot').count()).toBe(1);

    await page.keyboard.press('Enter');
    await expect.poll(() => tabItem(a).getAttribute('class')).toContain('selected');
    await expect.poll(() => tabItem(a).locator('.unread-dot').count()).toBe(0);
    await expect.poll(async () => (await m.mesh.tab(org, task, a))?.unread).toBe(false);
    expect(await focused()).toBe(a);

    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe(b);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe(a);
    await page.keyboard.press('End');
    expect(await focused()).toBe(b);
    await page.keyboard.press(' ');
    await expect.poll(() => tabItem(b).getAttribute('class')).toContain('selected');

    // Tab leaves the strip to the selected tab's close button, then on to the panel's buttons.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('tab-close');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('#panel') !== null)).toBe(true);

    await page.locator(`#tab-${b}`).focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => tabItem(b).count()).toBe(0);
    expect((await m.mesh.tab(org, task, b))?.state).toBe(TabState.Closed);
    await expect.poll(() => tabItem(a).getAttribute('class')).toContain('selected');
    expect(await focused()).toBe(a);
  });

  it('keeps a title typed while a create is in flight, when the new tab shows up before the reply', async () => {
    // The create's reply is held until its tab's first frame has selected it and a new title is typed.
    let releaseReply: () => void = () => {};
    const replyHeld = new Promise<void>((r) => {
      releaseReply = r;
    });
    await page.route('**/v1/orgs/*/tasks/*/tabs', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      await replyHeld;
      await route.fulfill({ response });
    });
    await page.fill('#new-title', 'First');
    await page.click('#create-tab');
    await expect.poll(() => page.locator('.tab-item.selected .tab-title').textContent()).toBe('First');
    await page.fill('#new-title', 'Second');
    releaseReply();
    await expect.poll(() => page.locator('#create-tab').isEnabled()).toBe(true);
    expect(await page.inputValue('#new-title')).toBe('Second');
    await page.unroute('**/v1/orgs/*/tasks/*/tabs');
  });

  it('keeps a draft per tab while tabs switch and update', async () => {
    const a = await openTab('Drafts A');
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await panel().getByTestId('composer').fill('half-written thought for A');
    const b = await openTab('Drafts B');
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    expect(await panel().getByTestId('composer').inputValue()).toBe('');
    await panel().getByTestId('composer').fill('B has its own');
    await tabItem(a).getByRole('tab').click();
    await expect.poll(() => panel().getAttribute('data-tab-id')).toBe(a);
    expect(await panel().getByTestId('composer').inputValue()).toBe('half-written thought for A');
    await tabItem(b).getByRole('tab').click();
    expect(await panel().getByTestId('composer').inputValue()).toBe('B has its own');
  });

  it('recovers without a reload when the WebSocket listener dies and comes back, showing what changed meanwhile', async () => {
    const keep = await openTab('Stays open');
    const gone = await openTab('Closed while away');
    await expect.poll(() => tabItem(gone).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await expect.poll(() => tabItem(keep).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

    m.mesh.gateway.closeWsListener();
    let reopened = false;
    try {
      await page.locator('#conn[data-state="reconnecting"]').waitFor();
      expect(await page.locator('#conn-retry').isVisible()).toBe(true);
      // Changes the page cannot see yet: a close and a whole new tab lifecycle.
      const closed = await m.mesh.tabOp(Subjects.tabClose, org, task, gone);
      expect(closed.ok).toBe(true);
      const added = await m.mesh.create(org, task, { title: 'Opened while away' });
      await m.mesh.waitForState(org, task, added.id, [TabState.Ready]);
      expect(await tabItem(gone).count()).toBe(1);
      expect(await tabItem(added.id).count()).toBe(0);
      await page.screenshot({ path: join(ResultsDir, 'reconnecting.png') });

      await m.mesh.gateway.reopenWsListener();
      reopened = true;
      await page.locator('#conn[data-state="open"]').waitFor({ timeout: 20_000 });
      await expect.poll(() => tabItem(added.id).getAttribute('data-state')).toBe(TabState.Ready);
      await expect.poll(() => tabItem(gone).count()).toBe(0);
      expect(await tabItem(keep).getAttribute('data-state')).toBe(TabState.Ready);
      expect(await page.locator('#activity li[data-reason="reconnect"]').count()).toBe(1);
      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    } finally {
      if (!reopened) await m.mesh.gateway.reopenWsListener();
    }
  });

  /** A page in its own browser context (its own session storage), for the sign-in states. */
  async function ownPage(url: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 760 }, colorScheme: 'dark' });
    const p = await ctx.newPage();
    p.setDefaultTimeout(Timeout);
    const errors: string[] = [];
    p.on('pageerror', (err) => errors.push(String(err)));
    p.on('console', (msg) => {
      if (msg.type() === 'error' && !expectedConsole(msg.text())) errors.push(msg.text());
    });
    await p.goto(url);
    return { page: p, errors, close: () => ctx.close() };
  }

  it('moves the token from the address bar to session storage and sends it on every call and the upgrade', async () => {
    expect(page.url()).not.toContain('token');
    expect(page.url()).toContain(`org=${org}`);
    expect(await page.evaluate(() => sessionStorage.getItem('tabmesh.token'))).toBe(token);
    const sent: Array<string | null> = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname.startsWith('/v1/')) sent.push(req.headers().authorization ?? null);
    });
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await openTab('With a token');
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent)).toEqual(new Set([`Bearer ${token}`]));
    // A reload keeps the session: the token comes from storage, not the (now clean) address.
    await page.reload();
    await page.locator('#conn[data-state="open"]').waitFor();
    expect(sockets.map((u) => new URL(u).searchParams.get('access_token'))).toEqual([token]);
    expect(await page.locator('#access').isHidden()).toBe(true);
  });

  it('shows "Not signed in" without a token, with the tab strip hidden and creating disabled', async () => {
    const own = await ownPage(m.pageUrl(org, task));
    try {
      const notice = own.page.locator('#access');
      await notice.waitFor({ state: 'visible' });
      expect(await notice.getAttribute('role')).toBe('alert');
      expect(await notice.getAttribute('data-kind')).toBe('signed-out');
      expect(await own.page.locator('#access-title').textContent()).toBe('Not signed in');
      expect(await notice.textContent()).toMatch(/pnpm start.*#token=/s);
      expect(await own.page.locator('#conn').getAttribute('data-state')).toBe('unauthenticated');
      expect(await own.page.locator('#tablist').isVisible()).toBe(false);
      expect(await own.page.locator('#create-tab').isDisabled()).toBe(true);
      expect(own.errors).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('works until its token expires, then shows "Token expired"; a fresh link brings it back without a reload', async () => {
    // Short, yet long enough for the page to load and open a tab first on a busy shared 2-core machine.
    const short = await mintToken(secret, { ttlSec: 10 });
    const own = await ownPage(signedIn(org, task, short));
    try {
      const p = own.page;
      await p.locator('#conn[data-state="open"]').waitFor();
      await p.getByTestId('empty').waitFor();
      await p.click('#quick-new');
      await expect.poll(() => p.locator('.tab-item').count()).toBe(1);
      expect(await p.locator('#access').isHidden()).toBe(true);

      // The gateway closes the socket when the token expires (4401); the page stops there.
      await p.locator('#access[data-kind="expired"]').waitFor({ timeout: 20_000 });
      expect(await p.locator('#access-title').textContent()).toBe('Token expired');
      expect(await p.locator('#access').textContent()).toMatch(/pnpm token/);
      expect(await p.locator('#conn').getAttribute('data-state')).toBe('unauthenticated');
      expect(await p.locator('#tablist').isVisible()).toBe(false);
      await p.screenshot({ path: join(ResultsDir, 'token-expired.png') });

      const fresh = await mintToken(secret);
      await p.evaluate((jwt) => (location.hash = `token=${encodeURIComponent(jwt)}`), fresh);
      await p.locator('#conn[data-state="open"]').waitFor();
      expect(await p.locator('#access').isHidden()).toBe(true);
      await expect.poll(() => p.locator('.tab-item').count()).toBe(1);
      expect(p.url()).not.toContain('token');
      expect(own.errors).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('renders pending, ready and error tabs side by side (the README screenshot)', async () => {
    // Same tab, so the token stays in session storage.
    await page.goto(m.pageUrl('acme', 'checkout-v2'));
    await page.locator('#conn[data-state="open"]').waitFor();
    await page.getByTestId('empty').waitFor();
    org = 'acme';
    task = 'checkout-v2';
    m.provider.hold();
    const background = await openTab('Fix flaky CI job');
    const ready = await openTab('Refactor auth module', 'claude-sonnet');
    m.provider.release();
    await expect.poll(() => tabItem(ready).getAttribute('data-state'), { timeout: Timeout }).toBe(TabState.Ready);
    await expect.poll(() => tabItem(background).locator('.unread-dot').count(), { timeout: Timeout }).toBe(1);
    m.provider.sim.failRate = 1;
    const failed = await openTab('Migrate billing to v2');
    await expect.poll(() => tabItem(failed).getAttribute('data-state'), { timeout: 30_000 }).toBe(TabState.Error);
    m.provider.sim.failRate = 0;
    m.provider.hold();
    const pending = await openTab('Write release notes');
    await expect.poll(() => tabItem(pending).getAttribute('data-state')).toBe(TabState.PendingSessionCreate);

    await tabItem(ready).getByRole('tab').click();
    await panel()
      .getByTestId('composer')
      .fill('Split the session middleware out of routes/auth.ts, then add tests for token refresh.');
    await page.mouse.move(0, 0);
    const states = await tabItems().evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states).toEqual([TabState.Ready, TabState.Ready, TabState.Error, TabState.PendingSessionCreate]);
    await page.screenshot({ path: join(ResultsDir, 'workbench.png') });
    if (process.env.WORKBENCH_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.WORKBENCH_DOCS_SCREENSHOT });
    m.provider.release();
  });
});

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 80);
