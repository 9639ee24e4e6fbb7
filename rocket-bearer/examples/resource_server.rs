//! A resource server behind a real authorization server: access tokens
//! (RFC 9068 JWTs) verified with the keys the issuer publishes, or opaque
//! ones introspected (RFC 7662); Bearer or DPoP-bound (RFC 9449); a scope
//! or a recent strong login (RFC 9470) required by a route's signature; and
//! the RFC 9728 metadata that tells clients where to get a token.
//!
//! ```sh
//! ISSUER=https://auth.example.com/realms/api AUDIENCE=http://127.0.0.1:8000/ \
//!   cargo run -p rocket-bearer --features verify --example resource_server
//! ```
//!
//! `ISSUER` is the issuer identifier, `AUDIENCE` this resource's identifier
//! (the `aud` its tokens carry, RFC 8707), `LEEWAY` the seconds of clock
//! skew allowed (default 60) and `ROCKET_PORT` the port (default 8000).
//! `GET /me` takes any valid token and answers
//! `{"sub":"<sub>","client_id":"<client_id>"}`; `GET /admin` needs the
//! `admin` scope; `GET /account` needs a DPoP-bound token and its proof;
//! `GET /security` needs a login with the `mfa` class (`acr`) within the
//! last five minutes (`auth_time`). `GET /ready` is 200 once the issuer's
//! keys are loaded, 503 before; the metadata document is at
//! `/.well-known/oauth-protected-resource`.
//!
//! The library's other settings are `ROCKET_BEARER_*` variables:
//! `ROCKET_BEARER_DPOP_NONCE_SECRET` (32 bytes or more, the same on every
//! instance) requires DPoP nonces; `ROCKET_BEARER_INTROSPECTION_CLIENT_ID`
//! and `ROCKET_BEARER_INTROSPECTION_CLIENT_SECRET` introspect opaque tokens
//! at the endpoint the issuer lists.

use std::env;
use std::process::ExitCode;

use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::figment::providers::Env;
use rocket::http::Status;
use rocket::serde::json::{Value, json};
use rocket::{Build, Config, Rocket, State, get, routes};
use rocket_bearer::verify::{AccessToken, Claims, DpopToken, Requirement, Verifier};
use rocket_bearer::{AcrValues, ResourceMetadata, Scope};

/// The scope `GET /admin` needs, in its signature.
struct Admin;

impl Requirement for Admin {
    const SCOPE: Option<Scope> = Some(Scope::from_static("admin"));
}

/// What `GET /security` needs: a second factor, at most five minutes ago.
struct RecentMfa;

impl Requirement for RecentMfa {
    const ACR_VALUES: Option<AcrValues> = Some(AcrValues::from_static("mfa"));
    const MAX_AGE: Option<u64> = Some(300);
}

/// Whom the token is about, and the client it was issued to.
fn whom(claims: &Claims) -> Value {
    json!({ "sub": claims.sub, "client_id": claims.client_id })
}

/// Any valid token, Bearer or DPoP.
#[get("/me")]
fn me(token: AccessToken) -> Value {
    whom(token.claims())
}

/// A token with the `admin` scope.
#[get("/admin")]
fn admin(token: AccessToken<Admin>) -> Value {
    whom(token.claims())
}

/// A DPoP-bound token, with a proof of its key.
#[get("/account")]
fn account(token: DpopToken) -> Value {
    whom(token.claims())
}

/// A token whose user logged in with a second factor, recently.
#[get("/security")]
fn security(token: AccessToken<RecentMfa>) -> Value {
    whom(token.claims())
}

/// Ready once the issuer's keys are loaded.
#[get("/ready")]
fn ready(verifier: &State<Verifier>) -> Status {
    match verifier.keys_loaded() {
        true => Status::Ok,
        false => Status::ServiceUnavailable,
    }
}

/// What the example is configured with.
struct Settings {
    issuer: String,
    audience: String,
    leeway: Option<u64>,
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let read = |name: &str| env::var(name).map_err(|_| format!("set {name}"));
        let leeway = match env::var("LEEWAY") {
            Ok(text) => Some(
                text.parse()
                    .map_err(|_| format!("LEEWAY {text:?} must be a number of seconds"))?,
            ),
            Err(_) => None,
        };
        Ok(Settings {
            issuer: read("ISSUER")?,
            audience: read("AUDIENCE")?,
            leeway,
        })
    }
}

/// The whole app, for `main` and the tests alike.
fn rocket(settings: &Settings) -> Result<Rocket<Build>, String> {
    // Rocket's defaults and `ROCKET_*`, without a `Rocket.toml` (Rocket would
    // look in parent folders and find the service's), then the verifier's.
    let mut figment = Figment::from(Config::default())
        .merge(Env::prefixed("ROCKET_").global())
        .merge(("bearer_issuer", &settings.issuer))
        .merge(("bearer_audience", &settings.audience));
    if let Some(leeway) = settings.leeway {
        figment = figment.merge(("bearer_leeway", leeway));
    }
    // The resource is the audience, its authorization server the issuer.
    let metadata = ResourceMetadata::from_figment(&figment)
        .map_err(|error| error.to_string())?
        .scopes_supported(["admin"]);
    Ok(rocket::custom(figment)
        .attach(Verifier::fairing())
        .attach(metadata)
        .mount("/", routes![me, admin, account, security, ready])
        .register("/", rocket_bearer::catchers()))
}

#[rocket::main]
async fn main() -> ExitCode {
    let rocket = match Settings::from_env().and_then(|settings| rocket(&settings)) {
        Ok(rocket) => rocket,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        // The verifier has logged the one line that names the bad key.
        Err(error) if matches!(error.kind(), ErrorKind::FailedFairings(_)) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod support;

/// DPoP, step-up and introspection, against the same server.
#[cfg(test)]
#[path = "../tests/resource_server/beyond_bearer.rs"]
mod beyond_bearer;

/// Against the test authorization server (tests/issuer/), over a real
/// socket: each answer of the verifier, rotation, and the issuer down.
#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use aws_lc_rs::hmac;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rocket::fairing::AdHoc;
    use rocket::futures::future::join_all;
    use rocket::tokio::sync::oneshot;
    use rocket::tokio::time::sleep;
    use rocket::{Shutdown, tokio};
    use serde_json::{Value, json};

    use super::support::issuer::{Issuer, OAuthClient};
    use super::support::jwt;
    use super::{Settings, rocket};

    pub(crate) const AUDIENCE: &str = "http://127.0.0.1:8000/";
    pub(crate) const METADATA: &str = "http://127.0.0.1:8000/.well-known/oauth-protected-resource";

    /// The example, launched in this process on an ephemeral loopback port.
    pub(crate) struct Server {
        pub(crate) base: String,
        shutdown: Shutdown,
        http: reqwest::Client,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.shutdown.clone().notify();
        }
    }

    /// What a client checks in an answer.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Answer {
        pub(crate) status: u16,
        pub(crate) challenge: Option<String>,
        pub(crate) retry_after: Option<String>,
        pub(crate) content_type: Option<String>,
        pub(crate) body: String,
    }

    async fn serve(issuer: &Issuer) -> Server {
        serve_with(issuer, &[]).await
    }

    /// The example with these settings of the library's besides.
    pub(crate) async fn serve_with(issuer: &Issuer, extra: &[(&str, Value)]) -> Server {
        let settings = Settings {
            issuer: issuer.url().to_owned(),
            audience: AUDIENCE.to_owned(),
            leeway: Some(0),
        };
        let rocket = rocket(&settings).expect("valid settings");
        let mut figment = rocket.figment().clone();
        for (key, value) in extra {
            figment = figment.merge((*key, value));
        }
        let figment = figment
            .merge(("address", Ipv4Addr::LOCALHOST))
            .merge(("port", 0))
            .merge(("log_level", "off"))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.signals", Vec::<String>::new()));
        let (lifted_off, port) = oneshot::channel();
        let lifted_off = std::sync::Mutex::new(Some(lifted_off));
        let rocket = rocket
            .configure(figment)
            .attach(AdHoc::on_liftoff("Port", move |rocket| {
                let port = rocket.config().port;
                if let Some(sender) = lifted_off.lock().ok().and_then(|mut s| s.take()) {
                    let _ = sender.send(port);
                }
                Box::pin(async {})
            }));
        let rocket = rocket.ignite().await.expect("the example ignites");
        let shutdown = rocket.shutdown();
        tokio::spawn(rocket.launch());
        let port = tokio::time::timeout(Duration::from_secs(10), port)
            .await
            .expect("the example listens in time")
            .expect("the example listens");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("an HTTP client");
        Server {
            base: format!("http://127.0.0.1:{port}"),
            shutdown,
            http,
        }
    }

    impl Server {
        pub(crate) async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
            self.send("GET", path, headers).await.0
        }

        /// `method path` with these headers: the answer, and its
        /// `DPoP-Nonce` header.
        pub(crate) async fn send(
            &self,
            method: &str,
            path: &str,
            headers: &[(&str, &str)],
        ) -> (Answer, Option<String>) {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
            let mut request = self.http.request(method, format!("{}{path}", self.base));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.expect("the example answers");
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            };
            let nonce = header("dpop-nonce");
            let answer = Answer {
                status: response.status().as_u16(),
                challenge: header("www-authenticate"),
                retry_after: header("retry-after"),
                content_type: header("content-type"),
                body: response.text().await.expect("a body"),
            };
            (answer, nonce)
        }

        pub(crate) async fn with_token(&self, path: &str, token: &str) -> Answer {
            self.get(path, &[("Authorization", &format!("Bearer {token}"))])
                .await
        }
    }

    /// A path, the request's headers, and the answer expected.
    type Case = (&'static str, Vec<(&'static str, String)>, Answer);

    /// The DPoP challenge's `algs`: every asymmetric algorithm.
    pub(crate) const ALGS: &str = "ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA";

    /// A refusal of a request sent as Bearer, or with no credentials: its
    /// status, its Bearer challenge with `resource_metadata`, then the DPoP
    /// challenge without error (RFC 9449 §7.2), naming the scope the route
    /// requires too, and the JSON body of its status.
    pub(crate) fn refused(status: u16, parameters: &str) -> Answer {
        let scope = match parameters.contains(r#"scope="admin""#) {
            true => r#"scope="admin", "#,
            false => "",
        };
        let bearer = match parameters {
            "" => format!(r#"Bearer resource_metadata="{METADATA}""#),
            _ => format!(r#"Bearer {parameters}, resource_metadata="{METADATA}""#),
        };
        let dpop = format!(r#"DPoP {scope}algs="{ALGS}", resource_metadata="{METADATA}""#);
        answer(status, format!("{bearer}, {dpop}"))
    }

    /// A refusal whose error goes on both challenges: no scheme was used
    /// unambiguously.
    fn refused_on_both(status: u16, parameters: &str) -> Answer {
        answer(
            status,
            format!(
                r#"Bearer {parameters}, resource_metadata="{METADATA}", DPoP {parameters}, algs="{ALGS}", resource_metadata="{METADATA}""#
            ),
        )
    }

    /// A refusal with this challenge and the JSON body of its status.
    pub(crate) fn answer(status: u16, challenge: String) -> Answer {
        let message = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            _ => panic!("{status} is not a refusal"),
        };
        Answer {
            status,
            challenge: Some(challenge),
            retry_after: None,
            content_type: Some("application/json".into()),
            body: format!(r#"{{"message":"{message}"}}"#),
        }
    }

    pub(crate) fn invalid_token(description: &str) -> Answer {
        refused(
            401,
            &format!(r#"error="invalid_token", error_description="{description}""#),
        )
    }

    /// 200 for a JWT of `client`, which is also its `sub`.
    pub(crate) fn ok(client: &str) -> Answer {
        Answer {
            status: 200,
            challenge: None,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: format!(r#"{{"client_id":"{client}","sub":"{client}"}}"#),
        }
    }

    /// `token`'s header and claims with `header` changed, signed by `sign`.
    fn reforged(token: &str, header: Value, sign: impl Fn(&str) -> String) -> String {
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let mut merged = jwt::header(token);
        for (name, value) in header.as_object().expect("an object") {
            merged[name] = value.clone();
        }
        let message = format!("{}.{}", encode(&merged), encode(&jwt::claims(token)));
        let signature = sign(&message);
        format!("{message}.{signature}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
    async fn every_refusal_is_the_answer_rfc_6750_gives_it_with_resource_metadata() {
        let issuer = Issuer::start().await;
        let server = serve(&issuer).await;
        let reader = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        let admin = issuer
            .token(OAuthClient::Admin, "read admin", AUDIENCE)
            .await;
        let elsewhere = issuer
            .token(OAuthClient::Reader, "read", "http://127.0.0.1:9999/")
            .await;
        let foreign = issuer
            .other_issuer_token(OAuthClient::Reader, "read", AUDIENCE)
            .await;
        let short = issuer
            .token(OAuthClient::ShortLived, "read", AUDIENCE)
            .await;
        let unsigned = reforged(&reader, json!({"alg": "none"}), |_| String::new());
        // HS256 keyed with the issuer's public key, as published: the
        // algorithm confusion an allow-list of public-key algorithms stops.
        let jwks: Value = reqwest::get(format!("{}/jwks", issuer.url()))
            .await
            .and_then(|response| response.error_for_status())
            .expect("the issuer's jwks")
            .json()
            .await
            .expect("a JWKS");
        let public_key = jwks["keys"][0].to_string();
        let confused = reforged(&reader, json!({"alg": "HS256"}), |message| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, public_key.as_bytes());
            URL_SAFE_NO_PAD.encode(hmac::sign(&key, message.as_bytes()))
        });
        let untyped = reforged(&reader, json!({"typ": "JWT"}), |_| {
            reader.rsplit('.').next().unwrap_or_default().to_owned()
        });
        let tampered = {
            let (message, _) = reader.rsplit_once('.').expect("three parts");
            let (_, other_signature) = admin.rsplit_once('.').expect("three parts");
            format!("{message}.{other_signature}")
        };
        sleep(Duration::from_millis(2100)).await; // the short-lived token expires
        let not_accepted = "the token is not signed with ES256 or ES384 or RS256 or RS384 or RS512 or PS256 or PS384 or PS512 or EdDSA";

        let cases: Vec<Case> = vec![
            ("/me", vec![], refused(401, "")),
            ("/admin", vec![], refused(401, r#"scope="admin""#)),
            (
                "/admin",
                vec![("Authorization", format!("Bearer {short}"))],
                refused(
                    401,
                    r#"error="invalid_token", error_description="the token has expired", scope="admin""#,
                ),
            ),
            (
                "/me",
                vec![("Authorization", "Basic YTpi".into())],
                refused(401, ""),
            ),
            (
                "/me",
                vec![("Authorization", "Bearer".into())],
                refused(
                    400,
                    r#"error="invalid_request", error_description="no token after Bearer""#,
                ),
            ),
            (
                "/me",
                vec![
                    ("Authorization", format!("Bearer {reader}")),
                    ("Authorization", format!("Bearer {reader}")),
                ],
                refused_on_both(
                    400,
                    r#"error="invalid_request", error_description="send one Authorization header, not several""#,
                ),
            ),
            (
                "/me",
                vec![("Authorization", "Bearer abc.def.ghi".into())],
                invalid_token("the token cannot be decoded as a JWT"),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {short}"))],
                invalid_token("the token has expired"),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {elsewhere}"))],
                invalid_token("the token is not meant for this resource (aud)"),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {foreign}"))],
                invalid_token("the token is from another issuer (iss)"),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {unsigned}"))],
                invalid_token(not_accepted),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {confused}"))],
                invalid_token(not_accepted),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {untyped}"))],
                invalid_token("the token is not an access token (typ at+jwt, RFC 9068)"),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {tampered}"))],
                invalid_token("the token's signature does not match"),
            ),
            (
                "/admin",
                vec![("Authorization", format!("Bearer {reader}"))],
                refused(403, r#"error="insufficient_scope", scope="admin""#),
            ),
            (
                "/me",
                vec![("Authorization", format!("Bearer {reader}"))],
                ok("reader"),
            ),
            (
                "/admin",
                vec![("Authorization", format!("Bearer {admin}"))],
                ok("admin"),
            ),
        ];
        for (path, headers, expected) in cases {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let answer = server.get(path, &headers).await;
            assert_eq!(answer, expected, "GET {path} with {headers:?}");
        }

        // Problem details, on request, carry the description as detail.
        let problem = server
            .get(
                "/me",
                &[
                    ("Authorization", &format!("Bearer {short}")),
                    ("Accept", "application/problem+json"),
                ],
            )
            .await;
        assert_eq!(
            problem.content_type.as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(
            problem.body,
            r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"the token has expired"}"#
        );

        // The RFC 9728 document, at the URL every challenge names.
        let document = server
            .get("/.well-known/oauth-protected-resource", &[])
            .await;
        assert_eq!(document.status, 200);
        assert_eq!(document.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            document.body,
            format!(
                r#"{{"resource":"{AUDIENCE}","authorization_servers":["{}"],"scopes_supported":["admin"],"bearer_methods_supported":["header"]}}"#,
                issuer.url()
            )
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
    async fn a_rotated_key_is_accepted_at_once_and_a_burst_costs_one_fetch() {
        let issuer = Issuer::start().await;
        let server = serve(&issuer).await;
        let before = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        assert_eq!(server.with_token("/me", &before).await, ok("reader"));
        let fetched = issuer.jwks_fetches().await;
        assert_eq!(fetched, 1, "the launch fetched the keys once");

        let kid = issuer.rotate(false).await;
        let after = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        assert_eq!(jwt::header(&after)["kid"], kid.as_str());
        let burst = (0..32).map(|_| server.with_token("/me", &after));
        let answers = join_all(burst).await;
        assert!(
            answers.iter().all(|answer| *answer == ok("reader")),
            "{answers:?}"
        );
        assert_eq!(
            issuer.jwks_fetches().await,
            fetched + 1,
            "one fetch for the burst"
        );
        // The old key is still published, so its tokens still verify.
        assert_eq!(server.with_token("/me", &before).await, ok("reader"));

        // Tokens naming kids the issuer never had, all at once: they share
        // one fetch (at most one a second), and each is an unknown key.
        let fetched = issuer.jwks_fetches().await;
        let random: Vec<String> = (0..20)
            .map(|n| {
                reforged(&after, json!({"kid": format!("random-{n}")}), |_| {
                    "c2ln".into()
                })
            })
            .collect();
        let answers = join_all(random.iter().map(|token| server.with_token("/me", token))).await;
        let unknown =
            invalid_token("the token is signed with a key this resource does not know (kid)");
        assert!(
            answers.iter().all(|answer| *answer == unknown),
            "{answers:?}"
        );
        assert_eq!(
            issuer.jwks_fetches().await,
            fetched + 1,
            "one fetch for 20 unknown kids"
        );

        // Retired at the issuer, and seen gone at the next fetch (here the
        // one a newer kid causes): the old key stops verifying.
        issuer.rotate(true).await;
        let newest = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        sleep(Duration::from_millis(1100)).await; // one fetch a second at most
        assert_eq!(server.with_token("/me", &newest).await, ok("reader"));
        assert_eq!(
            server.with_token("/me", &before).await,
            invalid_token("the token is signed with a key this resource does not know (kid)")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
    async fn a_token_verified_with_a_key_the_issuer_retired_stops_verifying_when_the_key_set_is_due()
     {
        let issuer = Issuer::start_with_jwks_max_age(5).await;
        let server = serve(&issuer).await;
        let token = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        assert_eq!(server.with_token("/me", &token).await, ok("reader"));
        issuer.rotate(true).await;
        // Only this token comes: no new kid makes the verifier refetch. Its
        // key set (max-age=5) is due 5 s after the launch fetched it.
        sleep(Duration::from_millis(5500)).await;
        assert_eq!(
            server.with_token("/me", &token).await,
            invalid_token("the token is signed with a key this resource does not know (kid)")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
    async fn an_issuer_down_is_a_503_for_unseen_keys_only_and_verification_resumes() {
        let mut issuer = Issuer::start().await;
        let server = serve(&issuer).await;
        let cached = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        assert_eq!(server.with_token("/me", &cached).await, ok("reader"));
        issuer.rotate(false).await;
        let unseen = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        issuer.stop().await;

        let down = server.with_token("/me", &unseen).await;
        assert_eq!(down.status, 503);
        assert_eq!(down.challenge, None);
        assert_eq!(down.retry_after.as_deref(), Some("1"));
        assert_eq!(down.body, r#"{"message":"Service Unavailable"}"#);
        assert_eq!(server.get("/me", &[]).await, refused(401, ""));
        assert_eq!(server.with_token("/me", &cached).await, ok("reader"));

        issuer.restart().await;
        sleep(Duration::from_millis(2100)).await; // the backoff after two failures at most
        assert_eq!(server.with_token("/me", &unseen).await, ok("reader"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer"]
    async fn launched_before_the_issuer_it_is_not_ready_then_resumes_by_itself() {
        let mut issuer = Issuer::start().await;
        let token = issuer.token(OAuthClient::Reader, "read", AUDIENCE).await;
        issuer.stop().await;
        let server = serve(&issuer).await;
        assert_eq!(server.get("/ready", &[]).await.status, 503);
        assert_eq!(server.with_token("/me", &token).await.status, 503);
        issuer.restart().await;
        // Ready again without a token asking: the keys are fetched by
        // themselves, within the backoff (at most 16 s).
        let mut ready = server.get("/ready", &[]).await.status;
        for _ in 0..100 {
            if ready == 200 {
                break;
            }
            sleep(Duration::from_millis(200)).await;
            ready = server.get("/ready", &[]).await.status;
        }
        assert_eq!(ready, 200);
        assert_eq!(server.with_token("/me", &token).await, ok("reader"));
    }
}
