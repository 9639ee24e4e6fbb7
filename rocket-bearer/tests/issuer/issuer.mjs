// The authorization server rocket-bearer's tests get real access tokens from:
// panva's oidc-provider (OpenID Certified), configured for what a resource
// server meets in production. Usage:
//
//   node issuer.mjs [--port N] [--state DIR] [--exit-with-stdin] [--jwks-max-age S]
//
// It listens on 127.0.0.1 (port 0, the default, picks a free one), prints one
// line to stdout when ready ("listening http://127.0.0.1:PORT") and nothing
// else there, and exits on SIGTERM, SIGINT, or (with --exit-with-stdin) when
// its stdin closes, so that a test that dies does not leave it running.
//
// Two issuers are served, signing with the same keys:
//   http://127.0.0.1:PORT        the issuer the tests configure
//   http://127.0.0.1:PORT/other  another issuer, for tokens with a known kid
//                                but the wrong iss (RFC 9068 §4, step 3)
// Each serves its discovery documents (RFC 8414 and OpenID Connect Discovery)
// and its jwks_uri itself; the RFC 8414 §3.1 form for the issuer with a path,
// /.well-known/oauth-authorization-server/other, is routed here.
//
// Each also serves introspection (RFC 7662) and revocation (RFC 7009) of the
// opaque tokens some clients get, and binds tokens to DPoP keys (RFC 9449);
// README.md lists the clients and what their tokens carry.
//
// Test controls, not part of OAuth, under /_test/ (README.md).

import { generateKeyPairSync, hash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';
// The in-memory store oidc-provider uses by default, made explicitly so that
// it outlives a Provider (see The providers). Not in the package's documented
// API, but the version is pinned.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    state: { type: 'string' },
    'exit-with-stdin': { type: 'boolean', default: false },
    // oidc-provider sends its jwks_uri without Cache-Control; with this, the
    // key set says how long it may be kept, as Keycloak's and Auth0's do.
    'jwks-max-age': { type: 'string' },
  },
});

// stdout carries the ready line only (a test reads it, then closes the pipe):
// oidc-provider writes its notices with console.info, which would land there.
console.info = console.warn;
console.log = console.warn;

const CLIENTS = [
  { client_id: 'reader', client_secret: 'reader-secret', scope: 'read' },
  { client_id: 'admin', client_secret: 'admin-secret', scope: 'read admin' },
  // Its tokens live one second, for the expiry tests.
  { client_id: 'short-lived', client_secret: 'short-lived-secret', scope: 'read admin' },
  // The resource server's own credentials, for the introspection endpoint
  // (RFC 7662 §2.1: the caller authenticates); it asks for no token itself.
  { client_id: 'resource-server', client_secret: 'resource-server-secret' },
  // Its tokens are opaque (OPAQUE_PREFIX): only introspection reads them.
  { client_id: 'opaque-reader', client_secret: 'opaque-reader-secret', scope: 'read' },
  // Step-up (RFC 9470): their tokens carry acr and auth_time (STEP_UP).
  { client_id: 'mfa', client_secret: 'mfa-secret', scope: 'read admin' },
  { client_id: 'mfa-stale', client_secret: 'mfa-stale-secret', scope: 'read admin' },
  { client_id: 'password', client_secret: 'password-secret', scope: 'read admin' },
  { client_id: 'opaque-password', client_secret: 'opaque-password-secret', scope: 'read' },
  { client_id: 'opaque-mfa-stale', client_secret: 'opaque-mfa-stale-secret', scope: 'read' },
].map((client) => ({
  ...client,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
}));

// A client whose id starts with this gets opaque access tokens for every
// resource, as an authorization server that does not issue JWTs does: the
// resource server must introspect them (RFC 7662).
const OPAQUE_PREFIX = 'opaque-';

// The authentication event each step-up client's tokens stand for (RFC 9470
// §4): acr, and how long before the token was issued the user authenticated
// (auth_time = iat - age). Nobody signs in under the client credentials
// grant, so these are stated, not measured; other clients' tokens carry
// neither claim.
const STEP_UP = {
  mfa: { acr: 'mfa', age: 0 },
  'mfa-stale': { acr: 'mfa', age: 3600 },
  password: { acr: 'pwd', age: 0 },
  'opaque-password': { acr: 'pwd', age: 0 },
  'opaque-mfa-stale': { acr: 'mfa', age: 3600 },
};

const TTL_SECONDS = { 'short-lived': 1 };
const DEFAULT_TTL_SECONDS = 600;

// --- Keys -----------------------------------------------------------------
// A list of private JWKs, the signing key first (oidc-provider signs with the
// first key of the set that fits the algorithm). With --state they live in
// DIR/keys.json, so that a restart on the same port keeps them.

const keysFile = args.state && join(args.state, 'keys.json');

function newKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  // The RFC 7638 thumbprint, as oidc-provider itself derives a missing kid.
  const kid = hash('sha256', JSON.stringify({
    crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y,
  }), 'base64url');
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

function loadKeys() {
  if (keysFile) {
    try {
      return JSON.parse(readFileSync(keysFile, 'utf8')).keys;
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  }
  return [newKey()];
}

function saveKeys(keys) {
  if (!keysFile) return;
  mkdirSync(args.state, { recursive: true });
  writeFileSync(`${keysFile}.tmp`, JSON.stringify({ keys }));
  renameSync(`${keysFile}.tmp`, keysFile);
}

// --- The providers ---------------------------------------------------------
// A Provider's key set is fixed when it is built, so a rotation builds new
// ones and swaps them in. JWTs are stateless, but opaque tokens (and the DPoP
// proofs' jti seen) live in the provider's store: oidc-provider's default
// gives each Provider a fresh in-memory one, which a rotation would empty, so
// each issuer keeps one store of its own across rebuilds instead (in memory:
// a restart still forgets them). Two stores, not one, because the other
// issuer is another authorization server: it must not know the main one's
// opaque tokens.

const STORES = {
  main: createMemoryAdapter(),
  other: createMemoryAdapter(),
};

function epochTime() {
  return Math.floor(Date.now() / 1000);
}

function provider(issuer, keys, store) {
  return new Provider(issuer, {
    adapter: store,
    clients: CLIENTS,
    jwks: { keys },
    scopes: ['read', 'admin'],
    // The only keys are ES256 ones; the default (RS256) would fail every client.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449: a token request with a DPoP proof gets a token bound to its
      // key (cnf.jkt, token_type DPoP), a JWT or an opaque one alike; one
      // without, a Bearer token. On by default in 9.x, stated so that the
      // tests do not hang on a default. No nonceSecret, so the issuer neither
      // asks for nonces nor accepts proofs carrying one: nonces are the
      // resource server's business in the tests.
      dPoP: { enabled: true },
      // RFC 7662, for the opaque tokens. oidc-provider's default policy lets
      // any authenticated confidential client introspect any token, which is
      // what `resource-server` needs (the tokens were issued to other clients
      // for the resource it stands for); stated here rather than left to the
      // default, which warns that it should be changed.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      // RFC 7009: a client revokes its own tokens (oidc-provider's default
      // policy), which then introspect as inactive.
      revocation: { enabled: true },
      // RFC 8707: a token requested with resource=<URL> is a JWT for that
      // audience (RFC 9068), signed ES256; an opaque- client's is opaque
      // (OPAQUE_PREFIX), with that audience in its introspection response.
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (_ctx, resourceIndicator, client) => {
          const { protocol } = new URL(resourceIndicator);
          if (protocol !== 'http:' && protocol !== 'https:') {
            throw new errors.InvalidTarget();
          }
          if (client.clientId.startsWith(OPAQUE_PREFIX)) {
            return {
              scope: 'read admin',
              audience: resourceIndicator,
              accessTokenFormat: 'opaque',
            };
          }
          return {
            scope: 'read admin',
            audience: resourceIndicator,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // The step-up claims (STEP_UP). oidc-provider puts what this returns in
    // a JWT access token's claims, and stores it with an opaque one, whose
    // introspection response then carries it. It runs while the token is
    // saved, right after oidc-provider reads the clock for iat (token.iat is
    // not set yet) and with no await between, so auth_time = iat - age
    // unless a second ends in those microseconds.
    extraTokenClaims: (_ctx, token) => {
      const stepUp = STEP_UP[token.clientId];
      if (!stepUp) return undefined;
      return { acr: stepUp.acr, auth_time: (token.iat ?? epochTime()) - stepUp.age };
    },
    ttl: {
      ClientCredentials: (_ctx, _token, client) => (
        TTL_SECONDS[client.clientId] ?? DEFAULT_TTL_SECONDS
      ),
    },
  });
}

let keys = loadKeys();
saveKeys(keys);
let base;
let handlers;

function build() {
  handlers = {
    main: provider(base, keys, STORES.main).callback(),
    other: provider(`${base}/other`, keys, STORES.other).callback(),
  };
}

// --- Test controls -------------------------------------------------------

let jwksFetches = 0;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function control(req, res, path) {
  const post = req.method === 'POST';
  if (path === '/_test/jwks-fetches' && req.method === 'GET') {
    return json(res, 200, { jwks_fetches: jwksFetches });
  }
  if (path === '/_test/keys' && req.method === 'GET') {
    return json(res, 200, { signing: keys[0].kid, published: keys.map((k) => k.kid) });
  }
  if (path === '/_test/rotate' && post) {
    keys = [newKey(), ...keys];
  } else if (path === '/_test/retire' && post) {
    keys = [keys[0]];
  } else {
    return json(res, 404, { error: 'no such test control' });
  }
  saveKeys(keys);
  build();
  return json(res, 200, { signing: keys[0].kid, published: keys.map((k) => k.kid) });
}

// --- The server ----------------------------------------------------------

const OTHER = '/other';
const RFC8414_OTHER = '/.well-known/oauth-authorization-server/other';

const server = createServer((req, res) => {
  const [path, query] = req.url.split(/\?(.*)/s);
  if (path.startsWith('/_test/')) {
    control(req, res, path);
    return;
  }
  if ((path === '/jwks' || path === `${OTHER}/jwks`) && (req.method === 'GET' || req.method === 'HEAD')) {
    jwksFetches += 1;
    if (args['jwks-max-age'] !== undefined) {
      res.setHeader('cache-control', `max-age=${Number(args['jwks-max-age'])}`);
    }
  }
  if (path === RFC8414_OTHER) {
    // oidc-provider derives its URLs from the part of originalUrl before url.
    req.originalUrl = `${OTHER}/.well-known/oauth-authorization-server${query === undefined ? '' : `?${query}`}`;
    req.url = req.originalUrl.slice(OTHER.length);
    handlers.other(req, res);
  } else if (path === OTHER || path.startsWith(`${OTHER}/`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(OTHER.length) || '/';
    handlers.other(req, res);
  } else {
    handlers.main(req, res);
  }
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['exit-with-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

server.listen(Number(args.port), '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  build();
  process.stdout.write(`listening ${base}\n`);
});
