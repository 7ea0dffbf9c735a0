// Saved views on the embedded demo: save a query with its columns, open it
// from the sidebar, refusals shown, delete it.
import { test, expect } from '@playwright/test';
import { shot, signIn } from './fixtures/board';
import { SearchPage } from './fixtures/search';
import { Views } from './fixtures/views';

test('a saved view opens from the sidebar with its query and columns', async ({ page }) => {
  await signIn(page, 'vera');
  const s = new SearchPage(page);
  const v = new Views(page);
  const name = `eu orders ${Date.now()}`;
  await s.open('tag:shop.region=eu');
  await s.expectRows();
  await v.save(name, 'kind,tags,state');
  // A plain form post: the board answers with the page again, the view listed.
  await v.expectListed(name);
  await page.goto('/overview');
  await v.link(name).click();
  await page.waitForURL(url => url.searchParams.get('view') === name);
  await expect(page.getByTestId('query')).toHaveValue('tag:shop.region=eu');
  await expect(page.getByTestId('view-title')).toContainText(name);
  await s.expectRows();
  const heads = await page.locator('thead th').allTextContents();
  expect(heads.map(h => h.trim().toLowerCase())).toEqual(['execution', 'step', 'tags', 'state']);
  // Hidden columns keep their cells, hidden: the lane is not shown.
  await expect(page.getByTestId('execution-row').first().locator('td:visible')).toHaveCount(4);
  await shot(page, 'saved-view');
  // The same name again is refused with a message, and nothing changes.
  await v.save(name, '');
  await expect(page.getByTestId('form-error')).toContainText('already there');
  await expect(v.link(name)).toHaveCount(1);
  await v.remove(name);
});
