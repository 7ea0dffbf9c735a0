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

test('a flow page draws its DAG with one node per member and one path per edge', async ({ page }) => {
  const flows = new FlowsPage(page);
  await flows.open();
  await flows.openBiggestFlow();
  const flow = new FlowPage(page);
  await expect(flow.dag()).toBeVisible();
  const members = await flow.members().count();
  expect(members).toBeGreaterThan(3);
  await expect(flow.nodes()).toHaveCount(members);
  const edges = Number(await flow.dag().getAttribute('data-edges'));
  expect(edges).toBeGreaterThan(0);
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
});

test('leases, lanes and status pages render', async ({ page }) => {
  await page.goto('/leases');
  await expect(page.getByRole('heading', { name: 'Leases & workers' })).toBeVisible();
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
  // Wait for hydration-driven refreshes: the set of rows or their states change as the demo runs.
  const before = await page.getByTestId('flows-table').innerText();
  await expect.poll(async () => await page.getByTestId('flows-table').innerText(), { timeout: 30_000 }).not.toBe(before);
});
