// Test SAML 2.0 identity provider for the Playwright SSO tests, shaped like a Microsoft Entra ID
// enterprise app: entity id https://sts.windows.net/{tenant}/, SSO URL /{tenant}/saml2 (HTTP-Redirect
// binding in, HTTP-POST binding out), only the Assertion signed (RSA-SHA256, exclusive c14n,
// SHA-256 digest, cert in KeyInfo), Entra claim URIs as attributes.
// Built on samlify. Service providers are not registered: each AuthnRequest's Issuer and
// AssertionConsumerServiceURL are trusted as they come. IdP-initiated: GET /launch?sp=&acs=.
// Fresh key + self-signed cert (openssl CLI) at every start; state in memory. Test-only.
//
// Env: IDP_HOST, SAML_IDP_PORT, IDP_TENANT, IDP_USERS, SAML_AUTO_SUBMIT (see README.md).

import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import samlify from 'samlify';

import {
  HOST, TENANT, checkLogin, escapeHtml, loginPage, readForm, sendHtml, sendText,
} from './users.mjs';

const PORT = Number(process.env.SAML_IDP_PORT || 9020);
const AUTO_SUBMIT = process.env.SAML_AUTO_SUBMIT !== '0'; // 0: stop on the #continue page
const BASE_URL = `http://${HOST}:${PORT}`;
const ENTITY_ID = `https://sts.windows.net/${TENANT}/`; // Entra's "Microsoft Entra Identifier"
const SSO_PATH = `/${TENANT}/saml2`; // Entra's "Login URL" shape
const SSO_URL = `${BASE_URL}${SSO_PATH}`;
const LOGIN_PATH = `${SSO_PATH}/login`; // where our login form posts to
const PENDING_TTL_MS = 10 * 60 * 1000;

const { binding } = samlify.Constants.namespace;
const NAMEID_FORMAT = samlify.Constants.namespace.format.emailAddress;

// Test-only: samlify refuses to parse incoming messages without a schema validator. We only
// parse AuthnRequests ourselves (Extractor), and trust every SP anyway, so a stub is enough.
samlify.setSchemaValidator({ validate: async () => 'skipped' });

// Fresh RSA key and self-signed certificate per start, from the openssl CLI.
function makeKeyAndCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scimpad-saml-idp-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=scimpad-test-idp',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return {
      keyPem: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      certPem: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('the openssl CLI is needed (apt-get install openssl)');
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const { keyPem, certPem } = makeKeyAndCert();

// Entra's claim URIs (reference-saml-tokens), in Entra's order. Attributes with no value are left out.
const ATTRIBUTES = [
  ['AttrTenantId', 'http://schemas.microsoft.com/identity/claims/tenantid', (u) => u.tid],
  ['AttrObjectId', 'http://schemas.microsoft.com/identity/claims/objectidentifier', (u) => u.oid],
  ['AttrDisplayName', 'http://schemas.microsoft.com/identity/claims/displayname', (u) => u.name],
  ['AttrGivenName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname', (u) => u.givenName],
  ['AttrSurname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname', (u) => u.familyName],
  ['AttrEmail', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', (u) => u.email],
  ['AttrName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', (u) => u.username],
];

// The Response, laid out like Entra's. {Tags} are filled (XML-escaped) by fillTemplate; samlify
// inserts the assertion's ds:Signature right after its saml:Issuer.
const RESPONSE_TEMPLATE = [
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"',
  ' ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">',
  '<saml:Issuer>{Issuer}</saml:Issuer>',
  '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>',
  '<saml:Assertion ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">',
  '<saml:Issuer>{Issuer}</saml:Issuer>',
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>',
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">',
  '<saml:SubjectConfirmationData InResponseTo="{InResponseTo}" NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}"/>',
  '</saml:SubjectConfirmation></saml:Subject>',
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}">',
  '<saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>',
  '<saml:AttributeStatement>',
  ...ATTRIBUTES.map(([tag, uri]) => `<saml:Attribute Name="${uri}"><saml:AttributeValue>{${tag}}</saml:AttributeValue></saml:Attribute>`),
  '</saml:AttributeStatement>',
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext>',
  '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>',
  '</saml:AuthnContext></saml:AuthnStatement>',
  '</saml:Assertion></samlp:Response>',
].join('');

// Single pass over the template (a value containing "{Tag}" is never re-substituted). A missing
// value removes its saml:Attribute element or its XML attribute (InResponseTo when IdP-initiated).
function fillTemplate(template, values) {
  const missing = (k) => values[k] === undefined || values[k] === null || values[k] === '';
  return template
    .replace(/<saml:Attribute [^>]*><saml:AttributeValue>\{(\w+)\}<\/saml:AttributeValue><\/saml:Attribute>/g,
      (m, k) => (missing(k) ? '' : m))
    .replace(/ [\w:]+="\{(\w+)\}"/g, (m, k) => (missing(k) ? '' : m))
    .replace(/\{(\w+)\}/g, (m, k) => {
      if (!(k in values)) throw new Error(`response template tag {${k}} has no value`);
      return escapeHtml(values[k]); // the five XML special characters
    });
}

const idp = samlify.IdentityProvider({
  entityID: ENTITY_ID,
  signingCert: certPem,
  privateKey: keyPem,
  nameIDFormat: [NAMEID_FORMAT],
  singleSignOnService: [
    { Binding: binding.redirect, Location: SSO_URL },
    { Binding: binding.post, Location: SSO_URL },
  ],
  wantAuthnRequestsSigned: false,
  requestSignatureAlgorithm: samlify.Constants.algorithms.signature.RSA_SHA256,
  loginResponseTemplate: { context: RESPONSE_TEMPLATE, attributes: [] },
});

// Pending logins: random id (hidden form field) -> { spEntityId, acs, requestId?, relayState? }.
const pending = new Map();

function addPending(entry) {
  const now = Date.now();
  for (const [id, e] of pending) if (e.expires < now) pending.delete(id);
  const id = crypto.randomBytes(18).toString('base64url');
  pending.set(id, { ...entry, expires: now + PENDING_TTL_MS });
  return id;
}

function isHttpUrl(value) {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

// Decodes a SAMLRequest (deflated for HTTP-Redirect, plain for HTTP-POST) into the parts we use.
function parseAuthnRequest(samlRequest, deflated) {
  const b64 = samlRequest.replace(/ /g, '+'); // tolerate an unencoded '+' in a query string
  const xml = deflated ? samlify.Utility.inflateString(b64) : samlify.Utility.base64Decode(b64);
  const fields = samlify.Extractor.extract(xml, samlify.Extractor.loginRequestFields);
  if (!fields.request) throw new Error('SAMLRequest is not an AuthnRequest (logout is not supported)');
  const spEntityId = fields.issuer;
  const acs = fields.request.assertionConsumerServiceUrl;
  if (!spEntityId) throw new Error('AuthnRequest has no Issuer');
  if (!isHttpUrl(acs)) {
    throw new Error('AuthnRequest needs an http(s) AssertionConsumerServiceURL (SPs are not pre-registered)');
  }
  return { requestId: fields.request.id, spEntityId, acs };
}

async function buildResponse({ spEntityId, acs, requestId }, user) {
  // samlify wants an SP object; build it from the request (SPs are not pre-registered).
  // wantAssertionsSigned + !wantMessageSigned = Entra's default: only the Assertion is signed.
  const sp = samlify.ServiceProvider({
    entityID: spEntityId,
    assertionConsumerService: [{ Binding: binding.post, Location: acs }],
    wantAssertionsSigned: true,
    wantMessageSigned: false,
    authnRequestsSigned: false,
  });
  const now = Date.now();
  const values = {
    ID: `_${crypto.randomUUID()}`,
    AssertionID: `_${crypto.randomUUID()}`,
    IssueInstant: new Date(now).toISOString(),
    NotBefore: new Date(now - 60 * 1000).toISOString(),
    NotOnOrAfter: new Date(now + 5 * 60 * 1000).toISOString(),
    Destination: acs,
    Recipient: acs,
    Audience: spEntityId,
    InResponseTo: requestId, // undefined when IdP-initiated -> attribute left out
    Issuer: ENTITY_ID,
    NameIDFormat: NAMEID_FORMAT,
    NameID: user.username,
    ...Object.fromEntries(ATTRIBUTES.map(([tag, , get]) => [tag, get(user)])),
  };
  const { context } = await idp.createLoginResponse(sp, {}, 'post', user, {
    customTagReplacement: (template) => ({ id: values.ID, context: fillTemplate(template, values) }),
  });
  return context; // base64 of the signed XML
}

function autoPostPage(acs, samlResponse, relayState) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Continue - Scimpad Test IdP (SAML)</title></head>
<body>
  <form id="saml-post" method="post" action="${escapeHtml(acs)}">
    <input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">
    ${relayState ? `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">` : ''}
    <button id="continue" type="submit">Continue</button>
  </form>
  ${AUTO_SUBMIT ? "<script>document.getElementById('saml-post').submit();</script>" : ''}
</body>
</html>
`;
}

function showLogin(res, pendingId, entry, error, username) {
  const subtitle = `${entry.requestId ? 'SP-initiated' : 'IdP-initiated'} for ${entry.spEntityId}`;
  return sendHtml(res, 200, loginPage({
    protocol: 'SAML', action: LOGIN_PATH, hidden: { pending: pendingId }, error, username, subtitle,
  }));
}

function sendError(res, status, message) {
  return sendHtml(res, status, `<!doctype html><html><head><meta charset="utf-8"><title>Error - Scimpad Test IdP (SAML)</title></head>
<body><h1>Scimpad Test IdP</h1><p id="error">${escapeHtml(message)}</p></body></html>`);
}

async function handle(req, res) {
  const url = new URL(req.url, BASE_URL);
  const route = `${req.method} ${url.pathname}`;

  if (route === 'GET /healthz') return sendText(res, 200, 'ok');
  if (route === 'GET /cert.pem') return sendText(res, 200, certPem);
  if (route === 'GET /metadata') return sendText(res, 200, idp.getMetadata(), 'application/samlmetadata+xml');

  // SP-initiated: AuthnRequest via HTTP-Redirect (GET, deflated) or HTTP-POST (form, not deflated).
  // A SigAlg/Signature on the request is ignored.
  if (route === `GET ${SSO_PATH}` || route === `POST ${SSO_PATH}`) {
    const params = req.method === 'GET' ? Object.fromEntries(url.searchParams) : await readForm(req);
    if (!params.SAMLRequest) return sendError(res, 400, 'missing SAMLRequest');
    let request;
    try {
      request = parseAuthnRequest(params.SAMLRequest, req.method === 'GET');
    } catch (err) {
      return sendError(res, 400, `bad SAMLRequest: ${err.message}`);
    }
    const entry = { ...request, relayState: params.RelayState };
    return showLogin(res, addPending(entry), entry);
  }

  // IdP-initiated ("My Apps" tile): unsolicited Response, no InResponseTo, no RelayState.
  if (route === 'GET /launch') {
    const spEntityId = url.searchParams.get('sp');
    const acs = url.searchParams.get('acs');
    if (!spEntityId || !isHttpUrl(acs)) return sendError(res, 400, 'need ?sp=<SP entity id>&acs=<http(s) ACS URL>');
    const entry = { spEntityId, acs };
    return showLogin(res, addPending(entry), entry);
  }

  if (route === `POST ${LOGIN_PATH}`) {
    const form = await readForm(req);
    const entry = pending.get(form.pending);
    if (!entry || entry.expires < Date.now()) {
      return sendError(res, 400, 'Login request expired or unknown; start again from the app.');
    }
    const { user, error } = checkLogin(form.username, form.password);
    if (error) return showLogin(res, form.pending, entry, error, form.username);
    pending.delete(form.pending); // one response per request
    const samlResponse = await buildResponse(entry, user);
    return sendHtml(res, 200, autoPostPage(entry.acs, samlResponse, entry.relayState));
  }

  return sendText(res, 404, 'not found\n');
}

const server = http.createServer(async (req, res) => {
  try {
    await handle(req, res);
  } catch (err) {
    console.error('saml idp error:', err);
    if (!res.headersSent) sendText(res, 500, `internal error: ${err.message}\n`);
    else res.end();
  }
});

server.listen(PORT, () => {
  console.log(`saml idp listening entity=${ENTITY_ID} sso=${SSO_URL}`);
});
