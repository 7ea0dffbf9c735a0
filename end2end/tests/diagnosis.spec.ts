// Why is it stuck, and what fixes it, on the Valkey cluster board (the only
// backend whose scheduler blocks for budget in FlowFabric 0.15; the demo
// stands in for it): the overview's "Stuck now" card links to the budget
// blocks, the execution's diagnosis names the budget with its numbers, an
// admin resets the budget from the diagnosis, and the execution moves on
// without a reload. Also: the workers page on the embedded demo.
import { expect, test } from '@playwright/test';
import { operator } from './fixtures/approvals';
import { shot } from './fixtures/board';
import { Diagnosis, StuckCard } from './fixtures/diagnosis';

test('a budget-blocked execution: from the overview to its diagnosis, reset from it, and it moves', async ({ browser }) => {
  test.skip(!process.env.VALKEY_BASE_URL, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it)');
  test.setTimeout(240_000);
  const { ctx, page } = await operator(browser, 'ada', process.env.VALKEY_BASE_URL);
  const stuck = new StuckCard(page);
  await stuck.waitFor('budget');
  await shot(page, 'overview-stuck');
  await stuck.count('budget').click();
  await expect(page).toHaveURL(/q=blocked%3Abudget/);
  const row = page.getByTestId('execution-row').first();
  await expect(row).toBeVisible();
  await expect(row.getByTestId('why')).toHaveText('budget');
  await row.locator('a').first().click();
  await expect(page).toHaveURL(/\/executions\/[^?]+$/);
  const d = new Diagnosis(page);
  await expect(d.block()).toHaveAttribute('data-family', 'budget');
  await expect(d.text()).toContainText(/Waiting for budget .+: gpu_seconds at \d+ of 3600/);
  await shot(page, 'diagnosis-budget');
  // The fix opens the budget's reset beside the execution's actions.
  await d.fix('reset-budget').click();
  const dialog = page.locator('dialog[open]');
  await expect(dialog).toBeVisible();
  await dialog.locator('input[name="reason"]').fill('incident: GPU budget exhausted by a retry storm');
  await dialog.getByTestId('reset-confirm').click();
  await expect(page.getByTestId('action-result').first()).toHaveAttribute('data-ok', 'true');
  // No reload: the page's live refresh shows it leave the budget block.
  await expect(d.text()).not.toContainText('Waiting for budget', { timeout: 60_000 });
  await shot(page, 'diagnosis-after-reset');
  await ctx.close();
});

test('the workers page lists the demo workers by namespace with their heartbeat', async ({ page }) => {
  await page.goto('/workers?ns=payments');
  await expect(page.getByRole('heading', { name: 'Workers' })).toBeVisible();
  const row = page.getByTestId('worker-row').first();
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-alive', 'true');
  await shot(page, 'workers');
});
