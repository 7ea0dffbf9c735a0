// A real OpenID provider for the sign-in tests: the certified `oidc-provider`
// package with one client registered for the board under test, its dev login
// page (any password) and accounts whose `groups` claim the board maps to
// roles. Started by scripts/e2e.sh:
//
//   node end2end/oidc/provider.mjs <port> <board public URL>
//
// Accounts (the login name is the account):
//   olga -> groups [ops]          (the board maps ops to operator)
//   adam -> groups [ops-admins]   (admin)
//   nora -> groups [sales]        (no role on the board: no access)
//   tamper-aud, tamper-exp, tamper-nonce, tamper-iss, tamper-sig -> groups [ops],
//     but their ID token is rewritten on its way out of the token endpoint:
//     another audience, expired an hour ago, another nonce, another issuer
//     (all re-signed with the provider's own key), or signed with a key the
//     provider does not publish. The board must refuse each.
//
// Prints "oidc provider on http://127.0.0.1:<port>" when it listens.
import Provider from 'oidc-provider';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';

const [port, board] = [Number(process.argv[2]), process.argv[3]];
if (!port || !board) {
  console.error('usage: provider.mjs <port> <board public URL>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const CLIENT_ID = 'ff-board';
const CLIENT_SECRET = 'ff-board-oidc-test-secret';

const GROUPS = { olga: ['ops'], adam: ['ops-admins'], nora: ['sales'] };
const groupsOf = (id) => GROUPS[id] ?? (id.startsWith('tamper-') ? ['ops'] : []);

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey } = await generateKeyPair('RS256');

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${board}/auth/callback`],
    post_logout_redirect_uris: [`${board}/login`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['ff-board-oidc-test-cookie-key'] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'], email: ['email'] },
  // Code flow: the ID token carries only `sub` (the provider's default);
  // the board reads `groups` from UserInfo then, as with many real providers.
  conformIdTokenClaims: true,
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, email: `${id}@example.test`, groups: groupsOf(id) };
      },
    };
  },
  // First-party board: consent is implied (no consent page).
  async loadExistingGrant(ctx) {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
});

// The tampering accounts' ID tokens, rewritten after the token endpoint.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !ctx.body || typeof ctx.body.id_token !== 'string') return;
  const claims = decodeJwt(ctx.body.id_token);
  const how = typeof claims.sub === 'string' && claims.sub.startsWith('tamper-') ? claims.sub.slice(7) : null;
  if (!how) return;
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  if (how === 'aud') claims.aud = 'another-client';
  else if (how === 'exp') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (how === 'nonce') claims.nonce = 'not-the-nonce-the-board-sent';
  else if (how === 'iss') claims.iss = 'http://127.0.0.1:1/elsewhere';
  else if (how === 'sig') key = strangerKey;
  ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(key) };
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc provider on ${issuer}`));
