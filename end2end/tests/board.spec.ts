// The embedded demo in a real browser: flows → a flow → its DAG, approvals,
// budgets, and the error pages. Screenshots land in end2end/screenshots/.
import { test, expect } from '@playwright/test';
import { FlowsPage, FlowPage, ApprovalsPage, BudgetsPage, shot } from './fixtures/board';

test('flows list shows the demo flows and the dev backend badge', async ({ page }) => {
  const flows = new FlowsPage(page);
  await flows.open();
  await expect(flows.rows().first()).toBeVisible();
  expect(await flows.rows().count()).toBeGreaterThan(2);
  await expect(page.getByTestId('dev-badge')).toHaveText(/dev backend/i);
  await expect(page).toHaveTitle(/Flows · ff-board/);
  await shot(page, 'flows');
});

test('a flow page draws its DAG: fan-outs collapsed, every member and edge when expanded, zoomable', async ({ page }) => {
  const flows = new FlowsPage(page);
  await flows.open();
  await flows.openBiggestFlow();
  const flow = new FlowPage(page);
  await expect(flow.dag()).toBeVisible();
  const members = await flow.members().count();
  expect(members, 'the biggest demo flow is a search reindex (48 shards in 6 fan-outs of 8)').toBeGreaterThanOrEqual(50);
  // Collapsed: six stacked nodes of 8 shards each, the rest drawn one by one.
  await expect(flow.fanouts()).toHaveCount(6);
  const hidden = (await flow.fanouts().evaluateAll(gs => gs.map(g => Number(g.getAttribute('data-members'))))).reduce((a, b) => a + b, 0);
  expect(hidden).toBe(48);
  await expect(flow.nodes()).toHaveCount(members - hidden);
  await shot(page, 'flow-dag-collapsed');
  // Zoom: the drawing grows and shrinks (hydrated buttons).
  await expect(page.getByTestId('dag-zoom')).toHaveText('100 %');
  const canvas = page.getByTestId('dag-canvas');
  const w0 = (await canvas.boundingBox())!.width;
  await page.getByTestId('dag-zoom-in').click();
  await expect(page.getByTestId('dag-zoom')).toHaveText('125 %');
  await expect.poll(async () => (await canvas.boundingBox())!.width).toBeCloseTo(w0 * 1.25, -1);
  await page.getByTestId('dag-zoom-out').click();
  await page.getByTestId('dag-zoom-out').click();
  await expect.poll(async () => (await canvas.boundingBox())!.width).toBeLessThan(w0);
  // Expanded: one node per member and one path per edge.
  await page.getByTestId('dag-expand').click();
  await expect(page).toHaveURL(/\?dag=all$/);
  await expect(flow.fanouts()).toHaveCount(0);
  await expect(flow.nodes()).toHaveCount(members);
  const edges = Number(await flow.dag().getAttribute('data-edges'));
  expect(edges).toBeGreaterThanOrEqual(members);
  await expect(flow.edges()).toHaveCount(edges);
  await shot(page, 'flow-dag');
  // A replay preview outlines the node and everything downstream of it.
  const root = await flow.nodes().first().getAttribute('data-execution-id');
  await page.goto(`${page.url().split('?')[0]}?replay=${encodeURIComponent(root!)}`);
  await expect(page.getByTestId('replay-highlight')).toBeVisible();
  expect(await page.locator('[data-testid="dag-node"][data-replay="true"]').count()).toBeGreaterThan(1);
  await page.goBack();
  // A node links to its execution page (ids with { } : are encoded).
  const href = await page.locator('a:has([data-testid="dag-node"])').first().getAttribute('href');
  expect(href).toMatch(/^\/executions\/%7Bfp%3A\d+%7D%3A/);
  await page.goto(href!);
  await expect(page.getByTestId('execution-facts')).toBeVisible();
  await shot(page, 'execution');
});

test('approvals inbox lists suspended executions with their waitpoints', async ({ page }) => {
  const approvals = new ApprovalsPage(page);
  await approvals.open();
  // Other specs approve what is there; the demo keeps suspending new gates
  // and the inbox updates live.
  await expect(page.locator('[data-testid="approval-row"]:has([data-testid="waitpoint"])').first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('approval-reason').first()).not.toBeEmpty();
  await expect(page).toHaveTitle(/Approvals \(\d+\) · ff-board/);
  await shot(page, 'approvals');
});

test('budgets show bars, one of them over its hard limit', async ({ page }) => {
  const budgets = new BudgetsPage(page);
  await budgets.open();
  await expect(budgets.bars().first()).toBeVisible();
  await expect(page.locator('[data-testid="budget-bar"][data-breach="hard"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="budget-bar"][data-breach="hard"]').first()).toHaveAttribute('data-fill', '100');
  await shot(page, 'budgets');
  // A budget's page charts each dimension's usage over the last hour: the
  // board samples it on every read, so this read is a point already.
  const id = await page.getByTestId('budget').first().getAttribute('data-budget-id');
  await page.goto(`/budgets/${id}`);
  const chart = page.getByTestId('usage-chart').first();
  await expect(chart).toBeVisible();
  await expect(chart.getByTestId('usage-point').first()).toBeAttached();
  await expect(chart.locator('title').first()).toContainText(/UTC: \d+ /);
  await shot(page, 'budget-usage');
});

test('leases, lanes and status pages render', async ({ page }) => {
  await page.goto('/leases');
  await expect(page.getByRole('heading', { name: 'Leases', exact: true })).toBeVisible();
  await shot(page, 'leases');
  await page.goto('/status');
  await expect(page.getByTestId('support').first()).toBeVisible();
  await page.goto('/lanes');
  await expect(page.getByTestId('lane').first()).toBeVisible();
});

test('malformed and unknown ids give 400 and 404 pages', async ({ page }) => {
  let r = await page.goto('/flows/not-a-uuid');
  expect(r!.status()).toBe(400);
  await expect(page.getByTestId('error')).toContainText('malformed flow id');
  r = await page.goto('/flows/00000000-0000-4000-8000-000000000000');
  expect(r!.status()).toBe(404);
  r = await page.goto('/executions/%7Bfp%3A0%7D%3A00000000-0000-4000-8000-000000000000');
  expect(r!.status()).toBe(404);
  r = await page.goto('/executions/garbage');
  expect(r!.status()).toBe(400);
});

test('the flows page moves without reload', async ({ page }) => {
  const flows = new FlowsPage(page);
  await flows.open();
  await expect(flows.rows().first()).toBeVisible();
  // Live refetches change the rows or their states as the demo runs; a
  // marker on the window proves the page was not reloaded meanwhile.
  await expect(page.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live');
  await page.evaluate(() => { (window as any).__noReload = true; });
  const before = await page.getByTestId('flows-table').innerText();
  await expect.poll(async () => await page.getByTestId('flows-table').innerText(), { timeout: 30_000 }).not.toBe(before);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});
