// A DPoP client (RFC 9449) for trying a resource server by hand, as the
// README of rocket-bearer does: it makes a key pair, gets a DPoP-bound
// token from the issuer with a proof of it, then GETs the URL with the
// token and a fresh proof, and prints the answer as `curl -i` would (the
// headers that matter). Usage:
//
//   node dpop-client.mjs ISSUER CLIENT_ID:CLIENT_SECRET RESOURCE URL [SCOPE]
//
// SCOPE, a space-separated list, is asked for with the token (none: the
// issuer grants none beyond the resource's defaults).
// If the resource server asks for a nonce (401 use_dpop_nonce, RFC 9449 §9),
// the answer is printed and the request made once more with the nonce, as a
// client does. `jose` signs the proofs (panva's, oidc-provider's companion).

import { createHash, randomUUID } from 'node:crypto';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const [issuer, credentials, resource, url, scope] = process.argv.slice(2);
if (!url || !credentials.includes(':')) {
  console.error('usage: node dpop-client.mjs ISSUER CLIENT_ID:CLIENT_SECRET RESOURCE URL [SCOPE]');
  process.exit(2);
}

const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = await exportJWK(publicKey);

// One proof per request (RFC 9449 §4.2): for this method and URL, made now.
function proof(htm, htu, { token, nonce } = {}) {
  const claims = { htm, htu };
  if (token) claims.ath = createHash('sha256').update(token).digest('base64url');
  if (nonce) claims.nonce = nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(privateKey);
}

const tokenEndpoint = `${issuer}/token`;
const granted = await fetch(tokenEndpoint, {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
    dpop: await proof('POST', tokenEndpoint),
  },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    resource,
    ...(scope ? { scope } : {}),
  }),
});
const body = await granted.json();
if (!granted.ok || body.token_type !== 'DPoP') {
  console.error(`the issuer gave no DPoP token: ${granted.status} ${JSON.stringify(body)}`);
  process.exit(1);
}
const token = body.access_token;

async function get(nonce) {
  const answer = await fetch(url, {
    headers: {
      authorization: `DPoP ${token}`,
      dpop: await proof('GET', url, { token, nonce }),
    },
  });
  console.log(`HTTP/1.1 ${answer.status} ${answer.statusText}`);
  for (const name of ['content-type', 'vary', 'www-authenticate', 'dpop-nonce']) {
    const value = answer.headers.get(name);
    if (value !== null) console.log(`${name}: ${value}`);
  }
  console.log(`\n${await answer.text()}`);
  return answer;
}

const first = await get();
const nonce = first.headers.get('dpop-nonce');
if (first.status === 401 && nonce && first.headers.get('www-authenticate')?.includes('use_dpop_nonce')) {
  console.log('');
  await get(nonce);
}
