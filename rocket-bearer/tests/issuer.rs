//! The test authorization server (tests/issuer/) gives what the verifier's
//! tests rely on: RFC 9068 tokens for the audience asked for, keys found
//! through discovery, another issuer with the same keys, rotation while it
//! runs, a count of key fetches, and its keys kept across a restart.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;

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
