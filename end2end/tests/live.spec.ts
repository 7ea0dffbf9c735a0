// Live updates in real Chromium: a DAG node changes colour with no reload
// when an operator cancels it, the /live feed streams events, and the
// connection indicator shows "reconnecting" while the server restarts and
// "live" again after.
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shot, signIn } from './fixtures/board';

test('a DAG node changes state without a reload', async ({ page }) => {
  // The test causes the change itself: an operator cancels one unfinished
  // member (a plain server-function post, as a second tab would), and the
  // open DAG must recolour that node from the live stream.
  await signIn(page, 'alice');
  await page.goto('/flows');
  await expect(page.getByTestId('flow-row').first()).toBeVisible();
  const flows = await page.locator('[data-testid="flow-row"]').evaluateAll(rows => rows.map(r => r.getAttribute('data-flow-id')!));
  let target: string | undefined;
  for (const id of flows) {
    await page.goto(`/flows/${id}`);
    await expect(page.getByTestId('dag')).toBeVisible();
    target = await page.locator('[data-testid="dag-node"]').evaluateAll(ns => {
      const pick = (s: string) => ns.find(n => n.getAttribute('data-state') === s)?.getAttribute('data-execution-id');
      return pick('waiting') ?? pick('waiting_children') ?? pick('delayed') ?? undefined;
    });
    if (target) break;
  }
  expect(target, 'a flow with an unfinished member').toBeTruthy();
  await expect(page.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live');
  await page.evaluate(() => { (window as any).__noReload = true; });
  const node = page.locator(`[data-testid="dag-node"][data-execution-id="${target}"]`);
  const status = await page.evaluate(async (eid) => {
    const me = await (await fetch('/api/me', { method: 'POST' })).json();
    const body = new URLSearchParams({ execution_id: eid!, action: 'cancel', reason: 'live test', idempotency_key: `live-${eid}`, csrf: me.actor.csrf });
    return (await fetch('/api/execution_action', { method: 'POST', body })).status;
  }, target);
  expect(status).toBe(200);
  await expect(node).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('the live feed streams engine events', async ({ page }) => {
  await page.goto('/live');
  await expect(page.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live');
  // Precondition: lease events and others are on the feed (the demo claims and completes).
  const leases = page.locator('[data-testid="live-event"][data-kind="lease"]');
  const others = page.locator('[data-testid="live-event"]:not([data-kind="lease"])');
  await expect(leases.first()).toBeVisible({ timeout: 30_000 });
  await expect(others.first()).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('live-filter-lease').uncheck();
  await expect(leases).toHaveCount(0);
  await expect(others.first()).toBeVisible();
  await shot(page, 'live');
});

/** Start the board on `port` (0: the system picks one); resolves with the
 * process and the port it bound, read from its "listening on" log line. */
function startBoard(port: number, dir: string): Promise<{ board: ChildProcess; port: number }> {
  const board = spawn(process.env.BOARD_BIN!, [], {
    cwd: dir,
    env: { ...process.env, FF_BOARD_ADDR: `127.0.0.1:${port}`, LEPTOS_SITE_ADDR: `127.0.0.1:${port}`, RUST_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`board did not say where it listens:\n${log}`)), 60_000);
    const read = (chunk: Buffer) => {
      log += chunk.toString();
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ board, port: Number(m[1]) });
      }
    };
    board.stdout!.on('data', read);
    board.stderr!.on('data', read);
    board.on('exit', code => reject(new Error(`board exited (${code}):\n${log}`)));
  });
}

async function healthy(port: number) {
  for (let i = 0; i < 120; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return; } catch { /* not yet */ }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error('board did not start');
}

/** Resolves with the exit of `board`, or rejects after `ms`. */
function exited(board: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (board.exitCode !== null || board.signalCode !== null) return resolve();
    const timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
    board.on('exit', () => { clearTimeout(timer); resolve(); });
  });
}

test('the indicator shows reconnecting while the server restarts, then live', async ({ page }) => {
  test.skip(!process.env.BOARD_BIN, 'needs BOARD_BIN (scripts/e2e.sh sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'ffb-restart-'));
  let { board, port } = await startBoard(0, dir);
  try {
    await healthy(port);
    await page.goto(`http://127.0.0.1:${port}/live`);
    const indicator = page.getByTestId('live-indicator');
    await expect(indicator).toHaveAttribute('data-state', 'live');
    // An event first, so the client knows where it was (its seq and the
    // process's epoch): only then does the next process owe it a resync.
    await expect(page.getByTestId('live-event').first()).toBeVisible({ timeout: 30_000 });
    // A crash: the socket just drops.
    board.kill('SIGKILL');
    await expect(indicator).toHaveAttribute('data-state', 'reconnecting');
    await shot(page, 'reconnecting');
    ({ board } = await startBoard(port, dir));
    await healthy(port);
    await expect(indicator).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
    await expect(indicator).toContainText('resynced');
    // A deploy: SIGTERM closes the open socket (1012) and the process
    // stops at once, not held by the browser's connection.
    const t0 = Date.now();
    board.kill('SIGTERM');
    await exited(board, 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expect(indicator).toHaveAttribute('data-state', 'reconnecting');
  } finally {
    board.kill('SIGKILL');
  }
});
