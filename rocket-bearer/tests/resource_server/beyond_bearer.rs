//! The `resource_server` example beyond Bearer tokens, against the test
//! authorization server (tests/issuer/), over a real socket: DPoP-bound
//! tokens and their proofs (RFC 9449), server nonces across instances,
//! step-up (RFC 9470) and opaque tokens by introspection (RFC 7662).

use std::time::Duration;

use rocket::tokio;
use rocket::tokio::time::sleep;
use serde_json::{Value, json};

use super::support::dpop::{ProofKey, ath};
use super::support::issuer::{Issuer, OAuthClient, RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET};
use super::tests::{
    ALGS, AUDIENCE, Answer, METADATA, Server, answer, invalid_token, ok, refused, serve_with,
};

const NONCE_SECRET: &str = "a nonce secret every instance shares";

/// A refusal of a request sent with the DPoP scheme to a route that takes
/// both: the error on the DPoP challenge only (RFC 9449 §7.2).
fn refused_as_dpop(code: &str, description: &str) -> Answer {
    answer(
        401,
        format!(
            r#"Bearer resource_metadata="{METADATA}", DPoP error="{code}", error_description="{description}", algs="{ALGS}", resource_metadata="{METADATA}""#
        ),
    )
}

fn invalid_proof(description: &str) -> Answer {
    refused_as_dpop("invalid_dpop_proof", description)
}

/// The answer to an opaque token of `client`: no `sub` in its
/// introspection (tests/issuer/README.md).
fn ok_opaque(client: &str) -> Answer {
    Answer {
        body: format!(r#"{{"client_id":"{client}","sub":null}}"#),
        ..ok(client)
    }
}

/// The introspection settings of the example's README.
fn introspecting(max_age: u64) -> Vec<(&'static str, Value)> {
    vec![
        ("bearer_introspection_client_id", json!(RESOURCE_SERVER_ID)),
        (
            "bearer_introspection_client_secret",
            json!(RESOURCE_SERVER_SECRET),
        ),
        ("bearer_introspection_max_age", json!(max_age)),
    ]
}

impl Server {
    /// `method path` with `token` as DPoP and these proofs.
    async fn dpop(&self, method: &str, path: &str, token: &str, proofs: &[&str]) -> Answer {
        self.dpop_with_nonce(method, path, token, proofs).await.0
    }

    async fn dpop_with_nonce(
        &self,
        method: &str,
        path: &str,
        token: &str,
        proofs: &[&str],
    ) -> (Answer, Option<String>) {
        let authorization = format!("DPoP {token}");
        let mut headers = vec![("Authorization", authorization.as_str())];
        headers.extend(proofs.iter().map(|proof| ("DPoP", *proof)));
        self.send(method, path, &headers).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn introspection_credentials_the_issuer_refuses_stop_the_launch_with_one_line() {
    use rocket::figment::Figment;
    use rocket_bearer::verify::Verifier;
    let issuer = Issuer::start().await;
    let figment = |secret: &str| {
        Figment::new()
            .merge(("bearer_issuer", issuer.url()))
            .merge(("bearer_audience", AUDIENCE))
            .merge(("bearer_introspection_client_id", RESOURCE_SERVER_ID))
            .merge(("bearer_introspection_client_secret", secret))
    };
    let refused = Verifier::from_figment(&figment("not-the-secret")).await;
    assert_eq!(
        refused.err().map(|error| error.to_string()).as_deref(),
        Some(
            "bearer_introspection_client_secret: the introspection endpoint refuses these credentials (bearer_introspection_client_id and this secret)"
        )
    );
    let taken = Verifier::from_figment(&figment(RESOURCE_SERVER_SECRET)).await;
    assert!(taken.is_ok(), "{:?}", taken.err());
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_dpop_bound_token_with_its_proof_is_accepted_and_never_as_a_bearer_token() {
    let issuer = Issuer::start().await;
    let server = serve_with(&issuer, &[]).await;
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::Reader, "read", AUDIENCE, &key)
        .await;
    for path in ["/me", "/account"] {
        let proof = key.proof("GET", &server.url(path), Some(&token), None);
        assert_eq!(
            server.dpop("GET", path, &token, &[&proof]).await,
            ok("reader"),
            "{path}"
        );
    }
    // The scheme's name in any letter case (RFC 9110 §11.1).
    let proof = key.proof("GET", &server.url("/me"), Some(&token), None);
    let authorization = format!("dpop {token}");
    let (reply, _) = server
        .send(
            "GET",
            "/me",
            &[("Authorization", &authorization), ("DPoP", &proof)],
        )
        .await;
    assert_eq!(reply, ok("reader"));

    // Sent as Bearer, with or without a proof: refused (RFC 9449 §7.2).
    let bound = "the token is bound to a DPoP key: send it with the DPoP scheme and a proof";
    assert_eq!(server.with_token("/me", &token).await, invalid_token(bound));
    let proof = key.proof("GET", &server.url("/me"), Some(&token), None);
    let bearer = format!("Bearer {token}");
    let (with_proof, _) = server
        .send(
            "GET",
            "/me",
            &[("Authorization", &bearer), ("DPoP", &proof)],
        )
        .await;
    assert_eq!(with_proof, invalid_token(bound));

    // A route that takes DPoP only offers DPoP only, and takes a Bearer
    // token as no credentials at all.
    let dpop_only = answer(
        401,
        format!(r#"DPoP algs="{ALGS}", resource_metadata="{METADATA}""#),
    );
    assert_eq!(server.get("/account", &[]).await, dpop_only);
    let reader = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
    assert_eq!(server.with_token("/account", &reader).await, dpop_only);
    // And a Bearer token sent as DPoP is not bound to the proof's key.
    let proof = key.proof("GET", &server.url("/account"), Some(&reader), None);
    assert_eq!(
        server.dpop("GET", "/account", &reader, &[&proof]).await,
        answer(
            401,
            format!(
                r#"DPoP error="invalid_token", error_description="the token is not bound to a DPoP key (cnf.jkt)", algs="{ALGS}", resource_metadata="{METADATA}""#
            )
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn each_check_of_a_proof_failing_alone_is_refused_with_a_description_naming_it() {
    let issuer = Issuer::start().await;
    let server = serve_with(&issuer, &[]).await;
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::Reader, "read", AUDIENCE, &key)
        .await;
    let other_token = issuer
        .dpop_token(OAuthClient::Reader, "read", AUDIENCE, &key)
        .await;
    let url = server.url("/me");
    // The valid proof's parts, each case changing one thing (null: removed).
    let changed = |header_changes: Value, claim_changes: Value| {
        let (mut header, mut claims) = key.proof_parts("GET", &url, Some(&token), None);
        for (part, changes) in [(&mut header, header_changes), (&mut claims, claim_changes)] {
            for (name, value) in changes.as_object().expect("an object") {
                match value {
                    Value::Null => part.as_object_mut().expect("an object").remove(name),
                    value => part
                        .as_object_mut()
                        .expect("an object")
                        .insert(name.clone(), value.clone()),
                };
            }
        }
        key.mint(&header, &claims)
    };
    let private_jwk = {
        let mut jwk = key.jwk();
        jwk["d"] = json!("c2VjcmV0");
        jwk
    };
    let stranger = ProofKey::generate();
    let tampered = {
        let proof = key.proof("GET", &url, Some(&token), None);
        let other = key.proof("GET", &url, Some(&token), None);
        let (message, _) = proof.rsplit_once('.').expect("three parts");
        let (_, signature) = other.rsplit_once('.').expect("three parts");
        format!("{message}.{signature}")
    };
    let cases: Vec<(Vec<String>, Answer)> = vec![
        (
            vec![],
            invalid_proof("the DPoP scheme needs a DPoP proof header"),
        ),
        (
            vec![
                key.proof("GET", &url, Some(&token), None),
                key.proof("GET", &url, Some(&token), None),
            ],
            invalid_proof("send one DPoP proof header, not several"),
        ),
        (
            vec!["abc.def.ghi".into()],
            invalid_proof("the DPoP proof cannot be decoded as a JWT"),
        ),
        (
            vec![changed(json!({"typ": "JWT"}), json!({}))],
            invalid_proof("the DPoP proof is not typed dpop+jwt"),
        ),
        (
            vec![changed(json!({"alg": "HS256"}), json!({}))],
            invalid_proof("the DPoP proof is not signed with an algorithm of algs"),
        ),
        (
            vec![changed(json!({"alg": "none"}), json!({}))],
            invalid_proof("the DPoP proof is not signed with an algorithm of algs"),
        ),
        (
            vec![changed(json!({"jwk": null}), json!({}))],
            invalid_proof("the DPoP proof's jwk is not a public key for its alg"),
        ),
        (
            vec![changed(json!({"jwk": private_jwk}), json!({}))],
            invalid_proof("the DPoP proof's jwk holds a private key"),
        ),
        (
            vec![changed(json!({"jwk": stranger.jwk()}), json!({}))],
            invalid_proof("the DPoP proof's signature does not match its jwk"),
        ),
        (
            vec![tampered],
            invalid_proof("the DPoP proof's signature does not match its jwk"),
        ),
        (
            vec![changed(json!({}), json!({"jti": null}))],
            invalid_proof("the DPoP proof lacks one of jti, htm, htu, iat and ath"),
        ),
        (
            vec![changed(json!({}), json!({"ath": null}))],
            invalid_proof("the DPoP proof lacks one of jti, htm, htu, iat and ath"),
        ),
        (
            vec![changed(json!({}), json!({"htm": "POST"}))],
            invalid_proof("the DPoP proof is for another method (htm)"),
        ),
        (
            vec![changed(json!({}), json!({"htu": server.url("/admin")}))],
            invalid_proof("the DPoP proof is for another URL (htu)"),
        ),
        (
            vec![changed(
                json!({}),
                json!({"htu": url.replace("127.0.0.1", "localhost")}),
            )],
            invalid_proof("the DPoP proof is for another URL (htu)"),
        ),
        (
            vec![changed(
                json!({}),
                json!({"htu": url.replace("http:", "https:")}),
            )],
            invalid_proof("the DPoP proof is for another URL (htu)"),
        ),
        (
            vec![changed(json!({}), json!({"iat": now() - 120}))],
            invalid_proof("the DPoP proof was not made within 60 seconds of now (iat)"),
        ),
        (
            vec![changed(json!({}), json!({"iat": now() + 120}))],
            invalid_proof("the DPoP proof was not made within 60 seconds of now (iat)"),
        ),
        (
            vec![changed(json!({}), json!({"ath": ath(&other_token)}))],
            invalid_proof("the DPoP proof is for another token (ath)"),
        ),
        // A valid proof of another key than the token's.
        (
            vec![stranger.proof("GET", &url, Some(&token), None)],
            refused_as_dpop(
                "invalid_token",
                "the token is bound to another key than the DPoP proof's (cnf.jkt)",
            ),
        ),
    ];
    for (proofs, expected) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let answer = server.dpop("GET", "/me", &token, &proofs).await;
        assert_eq!(answer, expected, "proofs {proofs:?}");
    }

    // The URL as the client wrote it: letter case, default port, query
    // and fragment do not count (RFC 9449 §4.3, RFC 3986 §6.2).
    let written = format!("{}?page=2#top", url.replace("http://", "HTTP://"));
    let proof = changed(json!({}), json!({"htu": written}));
    assert_eq!(
        server.dpop("GET", "/me", &token, &[&proof]).await,
        ok("reader")
    );

    // A proof is recorded only once its token is verified: sent first
    // with a junk token, it still works with its own.
    let proof = key.proof("GET", &url, Some(&token), None);
    assert_eq!(
        server.dpop("GET", "/me", "junk.junk.junk", &[&proof]).await,
        refused_as_dpop("invalid_token", "the token cannot be decoded as a JWT")
    );
    assert_eq!(
        server.dpop("GET", "/me", &token, &[&proof]).await,
        ok("reader")
    );

    // HEAD, which Rocket answers from the GET route: the proof says HEAD.
    let proof = key.proof("HEAD", &url, Some(&token), None);
    let (head, _) = server
        .dpop_with_nonce("HEAD", "/me", &token, &[&proof])
        .await;
    assert_eq!(head.status, 200);
    let proof = key.proof("GET", &url, Some(&token), None);
    let (head, _) = server
        .dpop_with_nonce("HEAD", "/me", &token, &[&proof])
        .await;
    assert_eq!(head.status, 401, "a GET proof for a HEAD");

    // A proof is used once (RFC 9449 §11.1).
    let proof = key.proof("GET", &url, Some(&token), None);
    assert_eq!(
        server.dpop("GET", "/me", &token, &[&proof]).await,
        ok("reader")
    );
    assert_eq!(
        server.dpop("GET", "/me", &token, &[&proof]).await,
        invalid_proof("the DPoP proof was used before (jti)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn with_nonces_a_proof_gets_one_then_succeeds_with_it_on_any_instance_sharing_the_secret() {
    let issuer = Issuer::start().await;
    let nonces = [("bearer_dpop_nonce_secret", json!(NONCE_SECRET))];
    let one = serve_with(&issuer, &nonces).await;
    let another = serve_with(&issuer, &nonces).await;
    let stranger = serve_with(
        &issuer,
        &[(
            "bearer_dpop_nonce_secret",
            json!("another secret, another deployment"),
        )],
    )
    .await;
    let key = ProofKey::generate();
    let token = issuer
        .dpop_token(OAuthClient::Reader, "read", AUDIENCE, &key)
        .await;

    // The dance of RFC 9449 §9: refused with a nonce, retried with it.
    let proof = key.proof("GET", &one.url("/me"), Some(&token), None);
    let (reply, nonce) = one.dpop_with_nonce("GET", "/me", &token, &[&proof]).await;
    assert_eq!(
        reply,
        refused_as_dpop(
            "use_dpop_nonce",
            "the DPoP proof must carry the nonce sent in DPoP-Nonce"
        )
    );
    let nonce = nonce.expect("a DPoP-Nonce header");
    let proof = key.proof("GET", &one.url("/me"), Some(&token), Some(&nonce));
    let (reply, fresh) = one.dpop_with_nonce("GET", "/me", &token, &[&proof]).await;
    assert_eq!(reply, ok("reader"));
    assert!(fresh.is_some(), "a success carries the nonce to use next");

    // Another instance with the same secret takes the first one's nonce,
    // with no store shared between them.
    let proof = key.proof("GET", &another.url("/me"), Some(&token), Some(&nonce));
    assert_eq!(
        another.dpop("GET", "/me", &token, &[&proof]).await,
        ok("reader")
    );
    // One with another secret does not, and gives its own.
    let proof = key.proof("GET", &stranger.url("/me"), Some(&token), Some(&nonce));
    let (reply, own) = stranger
        .dpop_with_nonce("GET", "/me", &token, &[&proof])
        .await;
    assert_eq!(
        reply,
        refused_as_dpop(
            "use_dpop_nonce",
            "the DPoP proof's nonce is not current: use the one in DPoP-Nonce"
        )
    );
    assert_ne!(own.as_deref(), Some(nonce.as_str()));
    // A refusal without credentials carries the nonce too, so that a
    // client's first DPoP request can use it.
    let (refusal, first) = one.send("GET", "/account", &[]).await;
    assert_eq!(refusal.status, 401);
    let first = first.expect("a DPoP-Nonce header on the 401");
    let proof = key.proof("GET", &one.url("/account"), Some(&token), Some(&first));
    assert_eq!(
        one.dpop("GET", "/account", &token, &[&proof]).await,
        ok("reader")
    );
    // Bearer requests carry no nonce.
    let reader = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
    let (reply, none) = one
        .send(
            "GET",
            "/me",
            &[("Authorization", &format!("Bearer {reader}"))],
        )
        .await;
    assert_eq!((reply, none), (ok("reader"), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn a_route_that_needs_a_recent_strong_login_says_what_falls_short_from_a_jwt_or_introspection()
 {
    let issuer = Issuer::start().await;
    let server = serve_with(&issuer, &introspecting(60)).await;
    let step_up = |description: &str| {
        refused(
            401,
            &format!(
                r#"error="insufficient_user_authentication", error_description="{description}", acr_values="mfa", max_age="300""#
            ),
        )
    };
    let wrong_class =
        step_up("the user did not authenticate with a class this resource accepts (acr)");
    let too_old = step_up("the user authenticated too long ago for this resource (auth_time)");
    let cases = [
        (OAuthClient::Mfa, ok("mfa")),
        (OAuthClient::Password, wrong_class.clone()),
        (OAuthClient::Reader, wrong_class.clone()),
        (OAuthClient::MfaStale, too_old.clone()),
        (OAuthClient::OpaquePassword, wrong_class),
        (OAuthClient::OpaqueMfaStale, too_old),
    ];
    for (client, expected) in cases {
        let scope = match client {
            OAuthClient::Reader | OAuthClient::OpaquePassword | OAuthClient::OpaqueMfaStale => {
                "read"
            }
            _ => "read admin",
        };
        let token = issuer.token(client, scope, AUDIENCE).await;
        assert_eq!(
            server.with_token("/security", &token).await,
            expected,
            "{client:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
async fn an_opaque_token_is_introspected_active_inactive_revoked_bound_and_with_the_issuer_down() {
    let mut issuer = Issuer::start().await;
    let server = serve_with(&issuer, &introspecting(1)).await;
    let active = issuer
        .token(OAuthClient::OpaqueReader, "read", AUDIENCE)
        .await;
    assert_eq!(
        server.with_token("/me", &active).await,
        ok_opaque("opaque-reader")
    );
    let inactive = invalid_token("the token is not active: expired, revoked or unknown (RFC 7662)");
    assert_eq!(
        server.with_token("/me", "never-issued-by-anyone").await,
        inactive
    );
    // For another resource: active, but not for this one.
    let elsewhere = issuer
        .token(OAuthClient::OpaqueReader, "read", "http://127.0.0.1:9999/")
        .await;
    assert_eq!(
        server.with_token("/me", &elsewhere).await,
        invalid_token("the token is not meant for this resource (aud)")
    );
    // The scope, as for a JWT.
    assert_eq!(
        server.with_token("/admin", &active).await,
        refused(403, r#"error="insufficient_scope", scope="admin""#)
    );

    // Revoked: refused once the kept answer (1 s here) has expired.
    issuer.revoke(OAuthClient::OpaqueReader, &active).await;
    sleep(Duration::from_millis(1100)).await;
    assert_eq!(server.with_token("/me", &active).await, inactive);

    // DPoP-bound (token_type DPoP, cnf.jkt): only with a proof of its key.
    let key = ProofKey::generate();
    let bound = issuer
        .dpop_token(OAuthClient::OpaqueReader, "read", AUDIENCE, &key)
        .await;
    let proof = key.proof("GET", &server.url("/account"), Some(&bound), None);
    assert_eq!(
        server.dpop("GET", "/account", &bound, &[&proof]).await,
        ok_opaque("opaque-reader")
    );
    assert_eq!(
        server.with_token("/me", &bound).await,
        invalid_token("the token is bound to a DPoP key: send it with the DPoP scheme and a proof")
    );

    // The issuer down: a token asked about before and still kept (a
    // minute, the default) works; a new one is a 503 with Retry-After,
    // with no challenge.
    let server = serve_with(&issuer, &introspecting(60)).await;
    let kept = issuer
        .token(OAuthClient::OpaqueReader, "read", AUDIENCE)
        .await;
    let unseen = issuer
        .token(OAuthClient::OpaqueReader, "read", AUDIENCE)
        .await;
    assert_eq!(
        server.with_token("/me", &kept).await,
        ok_opaque("opaque-reader")
    );
    issuer.stop().await;
    assert_eq!(
        server.with_token("/me", &kept).await,
        ok_opaque("opaque-reader")
    );
    let down = server.with_token("/me", &unseen).await;
    assert_eq!(
        (
            down.status,
            down.challenge.as_deref(),
            down.retry_after.as_deref()
        ),
        (503, None, Some("1"))
    );
    assert_eq!(down.body, r#"{"message":"Service Unavailable"}"#);
}
