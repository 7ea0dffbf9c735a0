// Two board processes on one Valkey cluster behind a round-robin balancer
// (scripts/e2e.sh starts the second process and end2end/replicas/balancer.mjs):
// a sign-in through the balancer is a session on both processes; a cancel
// posted to one process recolours the DAG a browser has open on the other,
// live; a sign-out on one ends the session on the other, even for a copy of
// the cookie kept from before. The Rust tests check the same with replicas
// in one process (tests/tests/replicas.rs); this is separate OS processes.
import { test, expect } from '@playwright/test';
import { signIn } from './fixtures/board';
import { ReplicaPair } from './fixtures/replicas';

test('two replica processes share sessions, live updates and sign-out', async ({ browser }) => {
  const pair = ReplicaPair.fromEnv();
  test.skip(!pair, 'needs REPLICA_A_URL, REPLICA_B_URL and REPLICAS_LB_URL (scripts/e2e.sh sets them)');
  const ctx = await browser.newContext({ baseURL: pair!.lb });
  const viaLb = await ctx.newPage();
  await signIn(viaLb, 'bob');

  // The one cookie is a session on each process (cookies are per host, not port).
  const onA = await ctx.newPage();
  const onB = await ctx.newPage();
  expect(await pair!.signedInAs(onA, pair!.a)).toContain('bob');
  expect(await pair!.signedInAs(onB, pair!.b)).toContain('bob');

  // A DAG open on A; the cancel goes to B; A's node turns cancelled, no reload.
  const target = await pair!.openFlowWithWaitingMember(onA, pair!.a);
  expect(target, 'a flow with an unfinished member on the cluster').toBeTruthy();
  await expect(onA.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live');
  await onA.evaluate(() => { (window as any).__noReload = true; });
  expect(await pair!.cancelOn(onB, target!, 'replica spec')).toBe(200);
  await expect(onA.locator(`[data-testid="dag-node"][data-execution-id="${target}"]`))
    .toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  expect(await onA.evaluate(() => (window as any).__noReload)).toBe(true);

  // A copy of the cookie, kept before the sign-out, works on A now...
  const kept = await ctx.cookies();
  const later = await browser.newContext();
  await later.addCookies(kept);
  const stale = await later.newPage();
  expect(await pair!.signedInAs(stale, pair!.a)).toContain('bob');
  // ...and not once bob signs out on B (the README says within 2 s).
  await onB.getByTestId('logout').click();
  await expect(onB.getByTestId('user')).toHaveCount(0);
  await expect.poll(async () => pair!.signedInAs(stale, pair!.a), { timeout: 5_000, intervals: [500] }).toBe('');
  await later.close();
  await ctx.close();
});
