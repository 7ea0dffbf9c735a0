// Search on the embedded demo (docs/SEARCH.md): the demo tags its
// executions as shops do (shop.order_id, shop.customer, shop.region).
import { test, expect } from '@playwright/test';
import { shot } from './fixtures/board';
import { SearchPage } from './fixtures/search';

test('a step typed into the query box lists only that step', async ({ page }) => {
  const s = new SearchPage(page);
  await s.open();
  await s.expectRows();
  const kinds = (await s.column('kind')).filter(k => k.length > 0);
  expect(kinds.length).toBeGreaterThan(0);
  const kind = kinds[0];
  await s.search(`kind:${kind}`);
  await s.expectRows();
  const shown = await s.column('kind');
  expect(new Set(shown)).toEqual(new Set([kind]));
  await shot(page, 'search-kind');
});

test('a tag link adds its term, and the CSV export holds the rows of the page and only rows of the tag', async ({ page }) => {
  const s = new SearchPage(page);
  await s.open('tag:shop.region');
  await s.expectRows();
  const link = page.getByTestId('tags').first().locator('a', { hasText: 'shop.order_id=' });
  const tag = (await link.textContent())!.trim();
  await link.click();
  await page.waitForURL(url => (url.searchParams.get('q') ?? '').includes(`tag:${tag}`));
  await s.expectRows();
  for (const cell of await s.column('tags')) expect(cell).toContain(tag);
  const ids = await s.ids();
  await shot(page, 'search-tag');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const file = await (await download).path();
  const text = require('fs').readFileSync(file, 'utf8') as string;
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('id,flow_id,state,kind,lane,namespace,attempts,created_at_ms,finished_at_ms,blocking_reason,tags');
  const rows = lines.slice(1).filter(l => !l.startsWith('#'));
  const exported = rows.map(l => l.split(',')[0].replace(/^"|"$/g, ''));
  // The demo keeps adding members to an order's flow: the file (read a
  // moment later) holds every row the page showed, and only rows of the tag.
  for (const id of ids) expect(exported).toContain(id);
  for (const row of rows) expect(row).toContain(tag);
});

test('a query that cannot be read says where and what was expected', async ({ page }) => {
  const s = new SearchPage(page);
  await s.open('state:runing');
  const err = page.getByTestId('error');
  await expect(err).toBeVisible();
  await expect(err).toHaveAttribute('data-status', '400');
  await expect(err).toContainText('character 7');
  await expect(err).toContainText('one of waiting');
  await expect(page.getByTestId('query')).toHaveValue('state:runing');
  await shot(page, 'search-error');
});
