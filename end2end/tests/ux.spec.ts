// What an operator sees first: the overview, the jump box and keys,
// centred confirmation dialogs, the phone-width layout, the approvals
// inbox that only holds work, and no serious accessibility violation on
// any page (axe-core).
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { Header, OverviewPage, shot } from './fixtures/board';
import { operator } from './fixtures/approvals';

test('the overview counts states and charts completions per minute', async ({ page }) => {
  const overview = new OverviewPage(page);
  await overview.open();
  await expect(overview.counts()).toHaveCount(6);
  await expect(overview.bars()).toHaveCount(60);
  // The demo completes work continuously: some minute has a bar with a value on hover.
  await expect.poll(async () => (await overview.chart().locator('title').allTextContents()).some(t => /[1-9]\d* completed/.test(t)), { timeout: 60_000 }).toBe(true);
  await expect(page.getByTestId('throughput-table')).toBeAttached();
  // Per lane: the demo's lanes with their totals, each linking to its executions.
  const lane = page.getByTestId('by-lane').getByTestId('key-row').first();
  await expect(lane).toBeVisible({ timeout: 30_000 });
  await expect(lane.locator('a')).toHaveAttribute('href', /^\/executions\?lane=/);
  await expect(lane.getByTestId('sparkline')).toBeAttached();
  await expect(page.getByTestId('by-namespace').getByTestId('key-row').first()).toBeVisible();
  // Retries are a series of their own; the embedded demo (SQLite) says
  // why it cannot count them (its lease events carry no lease id).
  await expect(overview.chart().locator('figcaption')).toContainText('retried');
  await expect(page.getByText('Retries: not reported by this backend')).toBeVisible();
  await shot(page, 'overview');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate(() => { localStorage.setItem('ffb-theme', 'dark'); });
  await page.reload();
  await expect(overview.chart()).toBeVisible();
  await shot(page, 'overview-dark');
  await page.evaluate(() => { localStorage.removeItem('ffb-theme'); });
});

test('the jump box and the keyboard shortcuts', async ({ page }) => {
  const header = new Header(page);
  await page.goto('/flows');
  const flowId = await page.getByTestId('flow-row').first().getAttribute('data-flow-id');
  await header.hydrated();
  await page.keyboard.press('/');
  await expect(header.jump()).toBeFocused();
  await header.jump().fill(flowId!);
  await header.jump().press('Enter');
  await expect(page).toHaveURL(new RegExp(`/flows/${flowId}$`));
  // An execution id from the flow's members.
  const execId = await page.getByTestId('member-row').first().getAttribute('data-execution-id');
  await page.goto(`/jump?id=${encodeURIComponent(execId!)}`);
  await expect(page).toHaveURL(/\/executions\//);
  // Unknown and malformed ids say so.
  await page.goto('/jump?id=00000000-0000-4000-8000-000000000000');
  await expect(page.getByTestId('error')).toContainText('not found');
  await page.goto('/jump?id=hello');
  await expect(page.getByTestId('error')).toContainText('is not an id');
  // g a / g e / ? / Esc.
  await page.goto('/flows');
  await header.hydrated();
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await expect(page).toHaveURL(/\/approvals$/);
  await page.keyboard.press('g');
  await page.keyboard.press('e');
  await expect(page).toHaveURL(/\/executions$/);
  await page.keyboard.press('?');
  await expect(header.shortcuts()).toBeVisible();
  await expect(header.shortcuts()).toContainText('g');
  await page.keyboard.press('Escape');
  await expect(header.shortcuts()).toBeHidden();
});

/** The dialog is centred, and its confirm button is in view without scrolling. */
async function dialogFits(page: Page, confirm: string) {
  const dialog = page.getByTestId('confirm-dialog').filter({ visible: true });
  await expect(dialog).toBeVisible();
  const box = (await dialog.boundingBox())!;
  const vp = page.viewportSize()!;
  expect(Math.abs(box.x + box.width / 2 - vp.width / 2)).toBeLessThan(4);
  expect(box.y).toBeGreaterThanOrEqual(0);
  const button = (await page.getByTestId(confirm).filter({ visible: true }).boundingBox())!;
  expect(button.y + button.height).toBeLessThanOrEqual(vp.height);
}

for (const [width, height] of [[1366, 768], [390, 844]]) {
  test(`confirmations are centred modals at ${width}px: real buttons, Esc closes`, async ({ browser }) => {
    const bob = await operator(browser, 'bob');
    await bob.page.setViewportSize({ width, height });
    // An execution still running when its page loads (the demo finishes
    // them quickly: take the next one if it just did).
    await bob.page.goto('/executions?state=active');
    const ids = await bob.page.getByTestId('execution-row').evaluateAll(rs => rs.map(r => r.getAttribute('data-execution-id')!));
    expect(ids.length, 'the demo has running executions').toBeGreaterThan(0);
    const open = bob.page.getByTestId('cancel-open').locator('[data-open]');
    for (const id of ids) {
      await bob.page.goto(`/executions/${encodeURIComponent(id)}`);
      await expect(bob.page.getByTestId('execution-facts')).toBeVisible();
      if (await open.count() > 0) break;
    }
    await expect(open).toHaveRole('button');
    await open.click();
    await dialogFits(bob.page, 'cancel-confirm');
    await shot(bob.page, `confirm-modal-${width}`);
    await bob.page.keyboard.press('Escape');
    await expect(bob.page.getByTestId('confirm-dialog').filter({ visible: true })).toHaveCount(0);
    await bob.ctx.close();
  });
}

test('at phone width the sidebar is a menu and nothing is cut off', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/', '/flows', '/executions', '/approvals']) {
    await page.goto(path);
    await expect(page.getByTestId('nav-flows')).toBeHidden();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
  }
  await page.getByTestId('nav-menu').click();
  await expect(page.getByTestId('nav-flows')).toBeVisible();
  await shot(page, 'phone-menu');
  await page.getByTestId('nav-flows').click();
  await expect(page).toHaveURL(/\/flows$/);
  await shot(page, 'phone-flows');
});

test('the approvals inbox holds only what needs a decision, with a toggle for the rest', async ({ page }) => {
  await page.goto('/approvals');
  await expect(page.getByTestId('approvals-scope')).toBeVisible();
  // Every row it lists has a pending waitpoint.
  const rows = page.getByTestId('approval-row');
  await expect(rows.first()).toBeVisible({ timeout: 60_000 });
  const withoutWaitpoint = await rows.evaluateAll(els => els.filter(e => !e.querySelector('[data-testid="waitpoint"]')).length);
  expect(withoutWaitpoint).toBe(0);
  await page.getByTestId('approvals-all').click();
  await expect(page).toHaveURL(/all=1/);
  await expect(page.getByTestId('approvals-actionable')).toBeVisible();
});

for (const path of ['/', '/flows', '/executions', '/approvals', '/leases', '/lanes', '/budgets', '/live', '/audit', '/status', '/login']) {
  test(`no serious or critical accessibility violation on ${path}`, async ({ page }) => {
    await page.goto(path);
    await expect(page.locator('main')).toBeVisible();
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)).toEqual([]);
  });
}

test('without wasm, a refused form post shows its error on the page', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.locator('input[name="username"]').fill('nobody');
  await page.locator('input[name="password"]').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('form-error')).toBeVisible();
  await expect(page.getByTestId('form-error')).toContainText(/sign in|password|unknown/i);
  await ctx.close();
});
