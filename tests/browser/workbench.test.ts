import { Subjects, TabState } from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PageMesh, ResultsDir, chromiumMissing, hasChromium, launchChromium } from './support/page-mesh.js';

if (!hasChromium) console.warn(chromiumMissing);

const Timeout = 10_000;

describe.skipIf(!hasChromium)('workbench page in Chromium', () => {
  let m: PageMesh;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: string;
  let task: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [m, browser] = await Promise.all([PageMesh.start(), launchChromium()]);
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
    context = await browser.newContext({ viewport: { width: 1280, height: 760 }, colorScheme: 'dark', deviceScaleFactor: 1 });
    page = await context.newPage();
    page.setDefaultTimeout(Timeout);
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(m.pageUrl(org, task));
    await page.locator('#conn[data-state="open"]').waitFor();
    await page.locator('[data-testid="empty"]').waitFor();
  });
  afterEach(async (ctx) => {
    await page.screenshot({ path: join(ResultsDir, `${slug(ctx.task.name)}.png`) }).catch(() => {});
    await context.close();
    expect(pageErrors).toEqual([]);
  });

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
    const id = await page.locator('.tab-item.selected').getAttribute('data-tab-id');
    expect(id).toBeTruthy();
    await expect.poll(() => tabItem(id!).locator('.tab-title').textContent()).toBe(title);
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
});

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 80);
