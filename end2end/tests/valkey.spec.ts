// A board on a real 3-primary Valkey cluster (scripts/e2e.sh forms it and
// starts the board with the demo workload): the flows page lists flows whose
// partitions sit on every shard, and two operators approve a Count{2, DistinctSources}
// gate whose signal is `release-signoff`, and the execution leaves
// `suspended`. On Valkey the trait names no signal for such a gate: the
// board reads the stored resume condition.
import { expect, test } from '@playwright/test';
import { approveTwoOfTwo } from './fixtures/approvals';

test('two operators open a 2-of-2 gate on the Valkey cluster with its own signal', async ({ browser }) => {
  test.skip(!process.env.VALKEY_BASE_URL, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it)');
  await approveTwoOfTwo(browser, process.env.VALKEY_BASE_URL);
});

test('the flows page lists the demo flows on the Valkey cluster', async ({ page }) => {
  test.skip(!process.env.VALKEY_BASE_URL, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it)');
  await page.goto(`${process.env.VALKEY_BASE_URL}/flows`);
  await expect(page.getByTestId('flow-row').first()).toBeVisible({ timeout: 30_000 });
  expect(await page.getByTestId('flow-row').count()).toBeGreaterThanOrEqual(5);
  await expect(page.getByText('valkey', { exact: false }).first()).toBeVisible();
});

test('the overview counts retries on Valkey (its lease events name the lease)', async ({ page }) => {
  test.skip(!process.env.VALKEY_BASE_URL, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it)');
  // The demo's flaky steps fail once and run again under a new lease.
  await expect.poll(async () => {
    await page.goto(`${process.env.VALKEY_BASE_URL}/`);
    return (await page.getByTestId('throughput').locator('title').allTextContents()).some(t => /[1-9]\d* retried/.test(t));
  }, { timeout: 120_000, intervals: [5_000] }).toBe(true);
  await expect(page.getByText('Retries: not reported by this backend')).toHaveCount(0);
});
