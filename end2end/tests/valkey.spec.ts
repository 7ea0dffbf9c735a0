// The approval gate on a real Valkey board (scripts/e2e.sh starts it with
// the demo workload): two operators approve a Count{2, DistinctSources}
// gate whose signal is `release-signoff`, and the execution leaves
// `suspended`. On Valkey the trait names no signal for such a gate: the
// board reads the stored resume condition.
import { test } from '@playwright/test';
import { approveTwoOfTwo } from './fixtures/approvals';

test('two operators open a 2-of-2 gate on Valkey with its own signal', async ({ browser }) => {
  test.skip(!process.env.VALKEY_BASE_URL, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it)');
  await approveTwoOfTwo(browser, process.env.VALKEY_BASE_URL);
});
