//! The test authorization server (tests/issuer/) gives what the verifier's
//! tests rely on: RFC 9068 tokens for the audience asked for, keys found
//! through discovery, another issuer with the same keys, rotation while it
//! runs, a count of key fetches, and its keys kept across a restart; DPoP-
//! bound tokens (RFC 9449), opaque tokens read by introspection (RFC 7662)
//! and revoked (RFC 7009), and step-up claims (RFC 9470).

mod support;

use std::collections::BTreeSet;

use serde_json::Value;

use support::dpop::ProofKey;
use support::issuer::{Issuer, OAuthClient};
use support::jwt;

const RESOURCE: &str = "http://127.0.0.1:8000/";

/// GETs `url` as JSON.
async fn get(url: &str) -> Value {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
        .get(url)
        .send()
        .await
        .expect("the issuer answers");
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.expect("a JSON body")
}

/// The `kid`s at the jwks_uri named by `issuer`'s RFC 8414 metadata (§3),
/// whose `issuer` must be `issuer` (§3.3).
async fn published_kids(issuer: &str) -> BTreeSet<String> {
    let metadata = get(&format!("{issuer}/.well-known/oauth-authorization-server")).await;
    assert_eq!(metadata["issuer"], issuer);
    let jwks_uri = metadata["jwks_uri"].as_str().expect("a jwks_uri");
    kids(&get(jwks_uri).await)
}

fn kids(jwks: &Value) -> BTreeSet<String> {
    let keys = jwks["keys"].as_array().expect("a JWK set has keys");
    keys.iter()
        .map(|key| key["kid"].as_str().expect("every key has a kid").to_owned())
        .collect()
}

fn kid(token: &str) -> String {
    jwt::header(token)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

fn set(kids: &[&str]) -> BTreeSet<String> {
    kids.iter().map(|kid| (*kid).to_owned()).collect()
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_token_is_an_es256_at_jwt_signed_by_a_key_the_discovered_jwks_uri_publishes() {
    let issuer = Issuer::start().await;
    let token = issuer.token(OAuthClient::Reader, "read", RESOURCE).await;

    let header = jwt::header(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(published_kids(issuer.url()).await, set(&[&kid(&token)]));

    let key = &get(&format!("{}/jwks", issuer.url())).await["keys"][0];
    assert_eq!((&key["kty"], &key["crv"]), (&"EC".into(), &"P-256".into()));
    assert!(key.get("d").is_none(), "the private part is not published");

    // OpenID Connect Discovery names the same jwks_uri and token endpoint.
    let openid = get(&format!(
        "{}/.well-known/openid-configuration",
        issuer.url()
    ))
    .await;
    assert_eq!(openid["issuer"], issuer.url());
    assert_eq!(openid["jwks_uri"], format!("{}/jwks", issuer.url()));
    assert_eq!(openid["token_endpoint"], format!("{}/token", issuer.url()));
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_token_is_for_the_resource_and_scope_asked_for_from_the_issuer_to_the_client() {
    let issuer = Issuer::start().await;
    let token = issuer.token(OAuthClient::Reader, "read", RESOURCE).await;
    let admin = issuer
        .token(OAuthClient::Admin, "read admin", "https://api.example/")
        .await;

    let claims = jwt::claims(&token);
    assert_eq!(claims["iss"], issuer.url());
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["scope"], "read");
    assert_eq!(claims["client_id"], "reader");
    assert_eq!(claims["sub"], "reader");
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    let lifetime = claims["exp"].as_u64().zip(claims["iat"].as_u64());
    assert_eq!(lifetime.map(|(exp, iat)| exp - iat), Some(600));

    let claims = jwt::claims(&admin);
    assert_eq!(claims["aud"], "https://api.example/");
    assert_eq!(claims["scope"], "read admin");
    assert_eq!(claims["client_id"], "admin");
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_short_lived_client_s_token_expires_one_second_after_it_is_issued() {
    let issuer = Issuer::start().await;
    let token = issuer
        .token(OAuthClient::ShortLived, "read", RESOURCE)
        .await;

    let claims = jwt::claims(&token);
    let lifetime = claims["exp"].as_u64().zip(claims["iat"].as_u64());
    assert_eq!(lifetime.map(|(exp, iat)| exp - iat), Some(1));
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn the_other_issuer_signs_with_the_same_kid_under_another_iss() {
    let issuer = Issuer::start().await;
    let token = issuer.token(OAuthClient::Reader, "read", RESOURCE).await;
    let other = issuer
        .other_issuer_token(OAuthClient::Reader, "read", RESOURCE)
        .await;

    assert_eq!(kid(&other), kid(&token));
    assert_eq!(jwt::claims(&other)["iss"], issuer.other_issuer_url());
    assert_ne!(issuer.other_issuer_url(), issuer.url());
    assert_eq!(jwt::claims(&other)["aud"], RESOURCE);

    // Its metadata at both places clients look: RFC 8414 §3.1 inserts the
    // well-known segment before the path, OpenID Connect appends it.
    let other_url = issuer.other_issuer_url();
    assert_eq!(published_kids(&other_url).await, set(&[&kid(&token)]));
    let rfc8414 = format!(
        "{}/.well-known/oauth-authorization-server/other",
        issuer.url()
    );
    let openid = format!("{other_url}/.well-known/openid-configuration");
    for metadata in [get(&rfc8414).await, get(&openid).await] {
        assert_eq!(metadata["issuer"], other_url);
        assert_eq!(metadata["jwks_uri"], format!("{other_url}/jwks"));
    }
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn after_a_rotation_tokens_carry_the_new_kid_and_both_kids_are_published_until_the_old_is_retired()
 {
    let issuer = Issuer::start().await;
    let old = kid(&issuer.token(OAuthClient::Reader, "read", RESOURCE).await);

    let new = issuer.rotate(false).await;
    assert_ne!(new, old);
    assert_eq!(
        kid(&issuer.token(OAuthClient::Reader, "read", RESOURCE).await),
        new
    );
    assert_eq!(published_kids(issuer.url()).await, set(&[&old, &new]));
    let other = issuer
        .other_issuer_token(OAuthClient::Reader, "read", RESOURCE)
        .await;
    assert_eq!(kid(&other), new, "the other issuer rotates with it");

    let newest = issuer.rotate(true).await;
    assert_ne!(newest, new);
    assert_eq!(
        kid(&issuer.token(OAuthClient::Reader, "read", RESOURCE).await),
        newest
    );
    assert_eq!(published_kids(issuer.url()).await, set(&[&newest]));
    assert_eq!(
        published_kids(&issuer.other_issuer_url()).await,
        set(&[&newest])
    );
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn every_fetch_of_a_jwks_uri_is_counted_and_nothing_else_is() {
    let issuer = Issuer::start().await;
    assert_eq!(issuer.jwks_fetches().await, 0);

    issuer.token(OAuthClient::Reader, "read", RESOURCE).await;
    get(&format!(
        "{}/.well-known/openid-configuration",
        issuer.url()
    ))
    .await;
    assert_eq!(issuer.jwks_fetches().await, 0);

    get(&format!("{}/jwks", issuer.url())).await;
    get(&format!("{}/jwks", issuer.url())).await;
    get(&format!("{}/jwks", issuer.other_issuer_url())).await;
    assert_eq!(issuer.jwks_fetches().await, 3);
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_stopped_issuer_refuses_connections_and_restarts_on_its_port_with_its_keys() {
    let mut issuer = Issuer::start().await;
    let new = issuer.rotate(false).await;
    let published = published_kids(issuer.url()).await;

    issuer.stop().await;
    let refused = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
        .get(format!("{}/jwks", issuer.url()))
        .send()
        .await;
    assert!(refused.is_err_and(|error| error.is_connect()));

    issuer.restart().await;
    assert_eq!(published_kids(issuer.url()).await, published);
    assert_eq!(
        kid(&issuer.token(OAuthClient::Reader, "read", RESOURCE).await),
        new
    );
}

/// `iat` and `auth_time` of a JWT's claims or an introspection response.
fn issued_and_authenticated(claims: &Value) -> (u64, u64) {
    let iat = claims["iat"].as_u64().expect("an iat");
    let auth_time = claims["auth_time"].as_u64().expect("an auth_time");
    (iat, auth_time)
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_dpop_bound_token_is_an_at_jwt_whose_cnf_jkt_is_the_proof_key_s_thumbprint() {
    let issuer = Issuer::start().await;
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::Reader, "read", RESOURCE, &key)
        .await;

    let header = jwt::header(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let claims = jwt::claims(&token);
    assert_eq!(
        claims["cnf"],
        serde_json::json!({ "jkt": key.thumbprint() })
    );
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["scope"], "read");

    // The thumbprint is the key's own: another key gets another.
    let other_key = ProofKey::generate();
    assert_ne!(other_key.thumbprint(), key.thumbprint());
    let other = issuer
        .dpop_token(OAuthClient::Admin, "admin", RESOURCE, &other_key)
        .await;
    assert_eq!(jwt::claims(&other)["cnf"]["jkt"], other_key.thumbprint());

    // Without a proof, a bearer token: no cnf.
    let bearer = issuer.token(OAuthClient::Reader, "read", RESOURCE).await;
    assert!(jwt::claims(&bearer).get("cnf").is_none());
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn an_opaque_token_is_not_a_jwt_and_introspects_active_for_the_resource_scope_and_client() {
    let issuer = Issuer::start().await;
    let token = issuer
        .token(OAuthClient::OpaqueReader, "read", RESOURCE)
        .await;
    assert!(!token.contains('.'), "an opaque token is no JWS: {token}");

    let answer = issuer.introspect(&token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["aud"], RESOURCE);
    assert_eq!(answer["scope"], "read");
    assert_eq!(answer["iss"], issuer.url());
    assert_eq!(answer["client_id"], "opaque-reader");
    assert_eq!(answer["token_type"], "Bearer");
    let lifetime = answer["exp"].as_u64().zip(answer["iat"].as_u64());
    assert_eq!(lifetime.map(|(exp, iat)| exp - iat), Some(600));
    assert!(answer.get("cnf").is_none(), "a bearer token is unbound");
    // No step-up claims for a client that has none.
    assert!(answer.get("acr").is_none() && answer.get("auth_time").is_none());

    // Unknown to the issuer: inactive, and nothing more.
    let unknown = issuer.introspect("not-a-token-the-issuer-gave").await;
    assert_eq!(unknown, serde_json::json!({ "active": false }));
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_dpop_bound_opaque_token_introspects_with_cnf_jkt_and_token_type_dpop() {
    let issuer = Issuer::start().await;
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::OpaqueReader, "read", RESOURCE, &key)
        .await;
    assert!(!token.contains('.'), "an opaque token is no JWS: {token}");

    let answer = issuer.introspect(&token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["aud"], RESOURCE);
    assert_eq!(answer["scope"], "read");
    assert_eq!(answer["token_type"], "DPoP");
    assert_eq!(
        answer["cnf"],
        serde_json::json!({ "jkt": key.thumbprint() })
    );
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_revoked_opaque_token_introspects_inactive() {
    let issuer = Issuer::start().await;
    let token = issuer
        .token(OAuthClient::OpaqueReader, "read", RESOURCE)
        .await;
    let kept = issuer
        .token(OAuthClient::OpaqueReader, "read", RESOURCE)
        .await;
    assert_eq!(issuer.introspect(&token).await["active"], true);

    issuer.revoke(OAuthClient::OpaqueReader, &token).await;
    let answer = issuer.introspect(&token).await;
    assert_eq!(answer, serde_json::json!({ "active": false }));
    assert_eq!(
        issuer.introspect(&kept).await["active"],
        true,
        "only the token revoked is"
    );
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn step_up_clients_jwts_carry_acr_and_auth_time_and_other_clients_carry_neither() {
    let issuer = Issuer::start().await;
    let cases = [
        (OAuthClient::Mfa, "mfa", 0),
        (OAuthClient::MfaStale, "mfa", 3600),
        (OAuthClient::Password, "pwd", 0),
    ];
    for (client, acr, age) in cases {
        let token = issuer.token(client, "read admin", RESOURCE).await;
        let claims = jwt::claims(&token);
        assert_eq!(claims["acr"], acr, "{client:?}");
        let (iat, auth_time) = issued_and_authenticated(&claims);
        assert_eq!(iat - auth_time, age, "{client:?}: auth_time = iat - {age}");
        assert_eq!(claims["scope"], "read admin");
    }

    for client in [OAuthClient::Reader, OAuthClient::Admin] {
        let claims = jwt::claims(&issuer.token(client, "read", RESOURCE).await);
        assert!(claims.get("acr").is_none(), "{client:?}");
        assert!(claims.get("auth_time").is_none(), "{client:?}");
    }

    // A DPoP-bound step-up token carries both.
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::Mfa, "admin", RESOURCE, &key)
        .await;
    let claims = jwt::claims(&token);
    assert_eq!(claims["acr"], "mfa");
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn step_up_clients_opaque_tokens_introspect_with_acr_and_auth_time() {
    let issuer = Issuer::start().await;
    let cases = [
        (OAuthClient::OpaquePassword, "pwd", 0),
        (OAuthClient::OpaqueMfaStale, "mfa", 3600),
    ];
    for (client, acr, age) in cases {
        let token = issuer.token(client, "read", RESOURCE).await;
        assert!(!token.contains('.'), "{client:?}'s tokens are opaque");
        let answer = issuer.introspect(&token).await;
        assert_eq!(answer["active"], true);
        assert_eq!(answer["acr"], acr, "{client:?}");
        let (iat, auth_time) = issued_and_authenticated(&answer);
        assert_eq!(iat - auth_time, age, "{client:?}: auth_time = iat - {age}");
        assert_eq!(answer["client_id"], client.credentials().0);
    }
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn the_discovery_document_lists_the_introspection_and_revocation_endpoints() {
    let issuer = Issuer::start().await;
    let expected = format!("{}/token/introspection", issuer.url());
    assert_eq!(issuer.introspection_endpoint().await, expected);
    assert_eq!(
        issuer.revocation_endpoint().await,
        format!("{}/token/revocation", issuer.url())
    );
    let openid = get(&format!(
        "{}/.well-known/openid-configuration",
        issuer.url()
    ))
    .await;
    assert_eq!(openid["introspection_endpoint"], expected);
    let algs = issuer.metadata().await["dpop_signing_alg_values_supported"].clone();
    assert!(
        algs.as_array()
            .is_some_and(|algs| algs.contains(&"ES256".into())),
        "DPoP proofs signed ES256 are accepted: {algs}"
    );
}

#[tokio::test]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn opaque_tokens_outlive_a_key_rotation_and_the_other_issuer_does_not_know_them() {
    let issuer = Issuer::start().await;
    let token = issuer
        .token(OAuthClient::OpaqueReader, "read", RESOURCE)
        .await;
    issuer.rotate(true).await;
    assert_eq!(issuer.introspect(&token).await["active"], true);

    // The other issuer is another authorization server: it keeps its own.
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
        .post(format!("{}/token/introspection", issuer.other_issuer_url()))
        .basic_auth(
            support::issuer::RESOURCE_SERVER_ID,
            Some(support::issuer::RESOURCE_SERVER_SECRET),
        )
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("the other issuer answers");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("a JSON body");
    assert_eq!(answer, serde_json::json!({ "active": false }));
}

#[test]
fn a_dpop_proof_carries_the_key_the_request_and_the_token_s_hash() {
    let key = ProofKey::generate();
    let url = "https://api.example/items?page=2";
    let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    let proof = key.proof("GET", url, Some(token), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));

    let header = jwt::header(&proof);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["jwk"], key.jwk());
    assert!(key.jwk().get("d").is_none(), "the private part stays");
    let claims = jwt::claims(&proof);
    assert_eq!(
        (&claims["htm"], &claims["htu"]),
        (&"GET".into(), &url.into())
    );
    // RFC 9449 §7.1's example token and its hash.
    assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    assert_eq!(claims["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
    assert!(claims["iat"].as_u64().is_some());
    let other = jwt::claims(&key.proof("GET", url, None, None));
    assert_ne!(other["jti"], claims["jti"], "every proof has its own jti");
    assert!(other.get("ath").is_none() && other.get("nonce").is_none());

    // mint signs what it is given, unchanged.
    let (header, mut claims) = key.proof_parts("POST", url, None, None);
    claims["htm"] = "PUT".into();
    let minted = key.mint(&header, &claims);
    assert_eq!(jwt::claims(&minted), claims);
    assert_eq!(jwt::header(&minted), header);
}
