// Single sign-on against a real OpenID provider (issue 22): the npm
// `oidc-provider` started by scripts/e2e.sh with a client registered for the
// Valkey board (FF_BOARD_OIDC_*; roles `ops-admins:admin,ops:operator`).
// Signs in through the provider's login page as an operator and as a user
// with no role; ID tokens with another audience, an expiry in the past,
// another nonce, another issuer or a foreign signature are refused.
import { test, expect } from '@playwright/test';
import { SsoSignIn } from './fixtures/sso';

const base = process.env.VALKEY_BASE_URL ?? '';

test.describe('single sign-on', () => {
  test.skip(!base, 'needs VALKEY_BASE_URL (scripts/e2e.sh sets it, with its OpenID provider)');

  test('an operator signs in through the provider, lands where they were going, and signs out everywhere', async ({ page }) => {
    const sso = new SsoSignIn(page, base);
    await sso.signIn('olga', '/executions');
    await expect(page).toHaveURL(/\/executions$/);
    await expect(sso.user()).toContainText('olga');
    await expect(sso.user()).toContainText('operator');
    // An operator's write is accepted: the session carries a CSRF token.
    await page.goto(`${base}/flows`);
    await expect(page.getByTestId('logout')).toBeVisible();
    await page.getByTestId('logout').click();
    // The board's session ends, then the provider offers to end its own
    // (RP-initiated logout) and comes back to the board's /login.
    await page.locator('button[name="logout"], button[type="submit"]').first().click();
    await expect(page).toHaveURL(new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/login`));
    await page.goto(`${base}/flows`);
    await expect(page.getByTestId('user')).toHaveCount(0);
    // Signed out at the provider too: the next sign-in asks for the password again.
    await page.goto(`${base}/login`);
    await page.getByTestId('sso').click();
    await expect(page.locator('input[name="login"]')).toBeVisible();
  });

  test('an admin group maps to admin', async ({ page }) => {
    const sso = new SsoSignIn(page, base);
    await sso.signIn('adam');
    await expect(sso.user()).toContainText('admin');
  });

  test('a user whose groups map to no role gets no session', async ({ page }) => {
    const sso = new SsoSignIn(page, base);
    await sso.signIn('nora');
    await expect(sso.error()).toContainText('nora');
    await expect(sso.error()).toContainText('no role');
    await page.goto(`${base}/flows`);
    await expect(page.getByTestId('user')).toHaveCount(0);
  });

  for (const [login, why] of [
    ['tamper-aud', 'wrong audience'],
    ['tamper-exp', 'expired'],
    ['tamper-nonce', 'wrong nonce'],
    ['tamper-iss', 'wrong issuer'],
    ['tamper-sig', 'bad signature'],
  ]) {
    test(`an ID token with ${why} is refused (${login})`, async ({ page }) => {
      const sso = new SsoSignIn(page, base);
      await sso.signIn(login);
      await expect(sso.error()).toContainText(why);
      await page.goto(`${base}/flows`);
      await expect(page.getByTestId('user')).toHaveCount(0);
    });
  }

  test('a callback this browser did not start is refused', async ({ page }) => {
    const res = await page.goto(`${base}/auth/callback?code=abc&state=forged`);
    expect(res?.status()).toBe(400);
    await expect(page.getByTestId('sso-error')).toContainText('no sign-in is in progress');
  });
});
