// Shared parts of the two test identity providers (oidc.mjs, saml.mjs) used by the Playwright SSO
// tests: the tenant id, the test user list, the password check, the HTML login page and tiny HTTP
// helpers. Test-only code: plaintext passwords, everything in memory.

// Entra tenant id of the simulated directory (issuer / entity id / `tid` claim).
export const TENANT = process.env.IDP_TENANT || '7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10';

// Host name the IdPs put in their URLs. Defaults to `localhost` while the app runs on 127.0.0.1,
// so IdP and app are cross-site like in production.
export const HOST = process.env.IDP_HOST || 'localhost';

const DEFAULT_USERS = [
  {
    username: 'alice@contoso.example', password: 'alice-pw', oid: 'aaaaaaaa-0000-4000-8000-000000000001',
    name: 'Alice Anders', givenName: 'Alice', familyName: 'Anders', email: 'alice@contoso.example',
  },
  {
    username: 'bob@contoso.example', password: 'bob-pw', oid: 'aaaaaaaa-0000-4000-8000-000000000002',
    name: 'Bob Baker', givenName: 'Bob', familyName: 'Baker', email: 'bob@contoso.example',
  },
  {
    username: 'mallory@contoso.example', password: 'mallory-pw', oid: 'aaaaaaaa-0000-4000-8000-000000000003',
    name: 'Mallory Mills', givenName: 'Mallory', familyName: 'Mills', email: 'mallory@contoso.example',
    blocked: true,
  },
];

// Users from env IDP_USERS (a JSON array replacing the defaults) or the defaults above.
// A user whose `tid` differs from TENANT simulates a token of a foreign tenant.
function loadUsers() {
  let list = DEFAULT_USERS;
  if (process.env.IDP_USERS) {
    list = JSON.parse(process.env.IDP_USERS);
    if (!Array.isArray(list)) throw new Error('IDP_USERS must be a JSON array');
  }
  return list.map((u, i) => {
    for (const field of ['username', 'password', 'oid']) {
      if (typeof u[field] !== 'string' || !u[field]) {
        throw new Error(`IDP_USERS[${i}]: "${field}" must be a non-empty string`);
      }
    }
    return {
      username: u.username,
      password: u.password,
      oid: u.oid,
      tid: u.tid || TENANT,
      name: u.name ?? u.username,
      givenName: u.givenName || undefined, // optional: claim/attribute left out when missing
      familyName: u.familyName || undefined,
      email: u.email ?? u.username,
      blocked: Boolean(u.blocked),
    };
  });
}

export const USERS = loadUsers();

export function findUser(username) {
  const wanted = String(username ?? '').trim().toLowerCase();
  return USERS.find((u) => u.username.toLowerCase() === wanted);
}

// Checks a submitted username/password. Returns { user } or { error } (text for #error).
export function checkLogin(username, password) {
  const user = findUser(username);
  if (!user || user.password !== password) return { error: 'Wrong username or password.' };
  if (user.blocked) return { error: 'Sign-in refused: account blocked.' };
  return { user };
}

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

// The login form. Stable ids for Playwright: #username #password #signin, and #error (only
// rendered when `error` is set). `hidden` is a map of extra hidden form fields.
export function loginPage({ protocol, action, hidden = {}, error, username = '', subtitle = '' }) {
  const hiddenInputs = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sign in - Scimpad Test IdP (${escapeHtml(protocol)})</title>
  <style>
    body { font-family: sans-serif; max-width: 24rem; margin: 4rem auto; }
    label, input, button { display: block; width: 100%; margin-top: .5rem; }
    #error { color: #b00020; }
  </style>
</head>
<body>
  <h1>Scimpad Test IdP</h1>
  <p>${escapeHtml(protocol)} sign-in for tenant <code>${escapeHtml(TENANT)}</code>${subtitle ? ` &middot; ${escapeHtml(subtitle)}` : ''}</p>
  ${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="${escapeHtml(action)}" autocomplete="off">
      ${hiddenInputs}
    <label for="username">Username</label>
    <input id="username" name="username" type="text" value="${escapeHtml(username)}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password">
    <button id="signin" type="submit">Sign in</button>
  </form>
</body>
</html>
`;
}

export function sendHtml(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

export function sendText(res, status, text, contentType = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

// Reads an application/x-www-form-urlencoded request body (max 1 MiB) into a plain object.
export async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
