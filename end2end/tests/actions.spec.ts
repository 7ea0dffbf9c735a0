// Operator actions in real Chromium: sign-in, the 2-of-2 approval gate with
// two operators in two browser contexts, a flow cancel with its blast
// radius, a viewer with no enabled action, the audit page.
import { test, expect } from '@playwright/test';
import { approveTwoOfTwo, operator } from './fixtures/approvals';
import { shot } from './fixtures/board';

test('two operators approve a 2-of-2 gate; the same operator twice does not', async ({ browser }) => {
  await approveTwoOfTwo(browser);
});

test('a viewer sees no enabled action', async ({ browser }) => {
  const vera = await operator(browser, 'vera');
  await vera.page.goto('/flows');
  const first = vera.page.getByTestId('flow-row').first();
  await first.locator('a').first().click();
  await expect(vera.page.getByTestId('dag')).toBeVisible();
  await expect(vera.page.getByTestId('action-disabled').first()).toBeVisible();
  await expect(vera.page.locator('[data-testid$="-confirm"]')).toHaveCount(0);
  await vera.ctx.close();
});

test('cancel a flow: the dialog says how many members, then they turn cancelled', async ({ browser }) => {
  const bob = await operator(browser, 'bob');
  await bob.page.goto('/flows?state=active');
  await expect(bob.page.getByTestId('flow-row').first()).toBeVisible();
  // The newest flow still has members to cancel.
  const newest = await bob.page.locator('[data-testid="flow-row"]').evaluateAll(rows => rows
    .map(r => ({ id: r.getAttribute('data-flow-id')!, t: Number(r.querySelector('time')?.getAttribute('datetime') ?? 0) }))
    .sort((a, b) => b.t - a.t)[0].id);
  await bob.page.goto(`/flows/${newest}`);
  await expect(bob.page.getByTestId('dag')).toBeVisible();
  await bob.page.getByTestId('cancel-flow-open').locator('[data-open]').click();
  await expect(bob.page.getByTestId('cancel-flow-summary')).toContainText(/members/);
  await shot(bob.page, 'cancel-flow-dialog');
  await bob.page.getByTestId('cancel-flow-open').locator('input[name="reason"]').fill('incident 42');
  await bob.page.getByTestId('cancel-flow-confirm').click();
  await expect(bob.page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
  await bob.page.reload();
  await expect.poll(async () => bob.page.locator('[data-testid="dag-node"][data-state="cancelled"]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
  await bob.ctx.close();
});

test('the audit page lists what operators did and what was refused', async ({ browser }) => {
  // This test's own doings: bob cancels one waiting execution, and someone
  // tries bob's account with a wrong password.
  const bob = await operator(browser, 'bob');
  await bob.page.goto('/executions?state=waiting');
  const first = bob.page.getByTestId('execution-row').first();
  await expect(first).toBeVisible();
  const waiting = await first.getAttribute('data-execution-id');
  const eid = await bob.page.evaluate(async (id) => {
    // `me` answers JSON (the session calls do; page data is postcard).
    const me = await (await fetch('/api/me', { method: 'POST' })).json();
    const body = new URLSearchParams({ execution_id: id, action: 'cancel', reason: 'audit spec', idempotency_key: `audit-${id}`, csrf: me.actor.csrf });
    const r = await fetch('/api/execution_action', { method: 'POST', body });
    if (r.status !== 200) throw new Error(`cancel: ${r.status} ${await r.text()}`);
    return id;
  }, waiting!);
  await bob.ctx.close();
  const stranger = await browser.newContext();
  const s = await stranger.request.post('/api/login', { form: { username: 'bob', password: 'guess' }, maxRedirects: 0 });
  expect(s.status()).toBe(401);
  await stranger.close();
  const ada = await operator(browser, 'ada');
  await ada.page.goto(`/audit?action=cancel&target=${encodeURIComponent(eid)}`);
  const done = ada.page.getByTestId('audit-row');
  await expect(done).toHaveCount(1);
  await expect(done).toContainText('bob');
  await expect(done).toContainText('audit spec');
  await expect(done).toContainText('ok');
  await ada.page.goto('/audit?action=refused_sign_in&user=bob');
  const refused = ada.page.getByTestId('audit-row').first();
  await expect(refused).toHaveAttribute('data-action', 'refused_sign_in');
  await expect(refused).toContainText('refused');
  await shot(ada.page, 'audit');
  await ada.ctx.close();
});

test('bulk cancel shows its count before confirming, then its progress', async ({ browser }) => {
  const bob = await operator(browser, 'bob');
  await bob.page.goto('/executions?state=waiting');
  // The preview is read only when asked for: listing costs no bulk read.
  await bob.page.getByTestId('bulk-start').click();
  await expect(bob.page).toHaveURL(/bulk=1/);
  const open = bob.page.getByTestId('bulk-open');
  await expect(open).toBeVisible({ timeout: 30_000 });
  const count = bob.page.getByTestId('bulk-count');
  await expect(count).toContainText(/Cancel \d+ execution\(s\) in state waiting/);
  const n = Number((await count.innerText()).match(/Cancel (\d+)/)![1]);
  expect(n).toBeGreaterThan(0);
  await shot(bob.page, 'bulk-dialog');
  await open.locator('input[name="reason"]').fill('drain the queue');
  await bob.page.getByTestId('bulk-confirm').click();
  const progress = bob.page.getByTestId('bulk-progress');
  await expect(progress).toContainText(/Finished: \d+ done, \d+ failed/, { timeout: 60_000 });
  const [, done, failed] = (await progress.innerText()).match(/(\d+) done, (\d+) failed/)!.map(Number);
  // The run handled exactly what the dialog counted.
  expect(done + failed).toBe(n);
  await bob.ctx.close();
});
