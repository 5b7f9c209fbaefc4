// Test OpenID Provider for the Playwright SSO tests, shaped like Microsoft Entra ID (v2.0
// endpoints): issuer http://{IDP_HOST}:{port}/{tenant}/v2.0, id_token with oid/tid/ver/
// preferred_username/email/name/given_name/family_name and a pairwise-style `sub`.
// Built on oidc-provider (panva); one confidential client (client_secret_post, code + PKCE S256),
// our own login page (users.mjs), silent consent, a fresh RS256 signing key at every start.
// Everything lives in memory: a restart drops sessions and rotates the key. Test-only.
//
// Env: IDP_HOST, OIDC_IDP_PORT, IDP_TENANT, IDP_USERS, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_REDIRECT_URIS (see README.md).

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import Provider, { errors } from 'oidc-provider';

import {
  HOST, TENANT, USERS, checkLogin, escapeHtml, loginPage, readForm, sendHtml, sendText,
} from './users.mjs';

const PORT = Number(process.env.OIDC_IDP_PORT || 9010);
const CLIENT_ID = process.env.OIDC_CLIENT_ID || 'scimpad-test-client';
const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET || 'scimpad-test-secret';
const splitList = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
const REDIRECT_URIS = splitList(process.env.OIDC_REDIRECT_URIS || 'http://127.0.0.1:3010/sso/oidc/callback');
const POST_LOGOUT_REDIRECT_URIS = splitList(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS || 'http://127.0.0.1:3010/');

const MOUNT = `/${TENANT}/v2.0`; // Entra shape: https://login.microsoftonline.com/{tid}/v2.0
const ISSUER = `http://${HOST}:${PORT}${MOUNT}`;
const INTERACTION = '/interaction'; // our login pages, outside the provider mount

// Entra's `sub` is pairwise: stable per (user, app) and different from `oid`. The provider always
// uses the session's accountId as `sub`, so the accountId *is* that hash.
const subFor = (user) => crypto.createHash('sha256').update(`${CLIENT_ID}:${user.oid}`).digest('base64url');
const accounts = new Map(USERS.map((u) => [subFor(u), u]));

// Fresh signing key per start (the app must cope with key rotation via JWKS).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig',
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  clientDefaults: { token_endpoint_auth_method: 'client_secret_post' },
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true }, // v9 only implements S256
  // Claims go into the id_token itself (Entra does the same), not only into /userinfo.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'tid', 'ver'],
    profile: ['oid', 'name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email'],
  },
  async findAccount(ctx, id) {
    const user = accounts.get(id);
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          oid: user.oid,
          tid: user.tid,
          ver: '2.0',
          preferred_username: user.username,
          email: user.email,
          name: user.name,
          given_name: user.givenName,
          family_name: user.familyName,
        };
      },
    };
  },
  // Silent consent: every login gets a grant for the requested OIDC scopes/claims.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `${INTERACTION}/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Auto-confirm "sign out of the IdP too?".
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Signing out - Scimpad Test IdP</title></head>
<body>${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<button id="logout" type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit()</script></body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!doctype html><html><head><meta charset="utf-8"><title>Signed out - Scimpad Test IdP</title></head><body><p id="signed-out">Signed out.</p></body></html>';
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Error - Scimpad Test IdP</title></head>
<body><h1>Scimpad Test IdP</h1><p id="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description)}</p></body></html>`;
  },
});

// GET /interaction/{uid}: the login page (consent never prompts, see loadExistingGrant).
// POST /interaction/{uid}/login: check the password, then hand the login back to the provider.
async function handleInteraction(req, res, url) {
  const [, uid, action] = url.pathname.slice(INTERACTION.length).split('/');
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return sendHtml(res, 400, '<!doctype html><title>Error - Scimpad Test IdP</title><p id="error">Login session expired or not found; start again from the app.</p>');
    }
    throw err;
  }
  if (details.uid !== uid) return sendText(res, 400, 'interaction mismatch\n');
  const formAction = `${INTERACTION}/${uid}/login`;
  const subtitle = `client ${details.params.client_id}`;

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') {
      // Rare with loadExistingGrant (e.g. a `claims` request parameter): grant it silently.
      const missing = details.prompt.details;
      const grant = (details.grantId && await provider.Grant.find(details.grantId))
        || new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return sendHtml(res, 200, loginPage({ protocol: 'OIDC', action: formAction, subtitle }));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const { user, error } = checkLogin(form.username, form.password);
    if (error) {
      return sendHtml(res, 200, loginPage({
        protocol: 'OIDC', action: formAction, subtitle, error, username: form.username,
      }));
    }
    return provider.interactionFinished(req, res, { login: { accountId: subFor(user) } }, {
      mergeWithLastSubmission: false,
    });
  }
  return sendText(res, 405, 'method not allowed\n');
}

const providerCallback = provider.callback();

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, ISSUER);
    if (url.pathname === '/healthz') return sendText(res, 200, 'ok');
    if (url.pathname.startsWith(`${INTERACTION}/`)) return await handleInteraction(req, res, url);
    if (url.pathname === MOUNT || url.pathname.startsWith(`${MOUNT}/`)) {
      // Mount the provider under /{tenant}/v2.0: it computes its URLs from originalUrl - url.
      req.originalUrl = req.url;
      req.url = req.url.slice(MOUNT.length) || '/';
      return providerCallback(req, res);
    }
    return sendText(res, 404, 'not found\n');
  } catch (err) {
    console.error('oidc idp error:', err);
    if (!res.headersSent) sendText(res, 500, `internal error: ${err.message}\n`);
    else res.end();
  }
});

server.listen(PORT, () => {
  console.log(`oidc idp listening issuer=${ISSUER}`);
});
