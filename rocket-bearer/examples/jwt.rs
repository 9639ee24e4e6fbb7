//! An API that accepts HS256 JSON Web Tokens signed with a shared secret,
//! verified by the library's verifier (the `verify` feature), every refusal
//! answered as RFC 6750 §3.1 says.
//!
//! ```sh
//! JWT_SECRET=0123456789abcdef0123456789abcdef cargo run -p rocket-bearer --features verify --example jwt
//! ```
//!
//! It serves on `ROCKET_PORT` (default 8000). `GET /me` takes any valid token
//! and answers `{"sub":"<sub>"}`; `GET /admin` does the same for a token whose
//! `scope` includes `admin`, and answers the others 403 `insufficient_scope`.
//! A token's claims are `sub`, `aud` (`jwt-example`), `exp` (required, no
//! leeway) and
//! `scope`, a space-separated list (RFC 8693 §4.2). A shared secret suits
//! tests and small setups; an API behind an authorization server uses the
//! `resource_server` example's configuration instead.

use std::env;
use std::fmt::Display;
use std::process::ExitCode;

use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::figment::providers::Env;
use rocket::serde::json::{Value, json};
use rocket::tokio::runtime::Builder;
use rocket::{Build, Config, Rocket, get, routes};
use rocket_bearer::verify::{AccessToken, Requirement, Verifier};
use rocket_bearer::{Description, Realm, Rejection, Scope};

/// The realm every challenge names (RFC 6750 §3).
const REALM: Realm = Realm::from_static("jwt example");

/// This API's identifier, which its tokens carry in `aud` (RFC 8707).
const AUDIENCE: &str = "jwt-example";

const NO_SUB: Description = Description::from_static("the token has no sub claim");

/// The scope `GET /admin` needs, in its signature.
struct Admin;

impl Requirement for Admin {
    const SCOPE: Option<Scope> = Some(Scope::from_static("admin"));
}

/// `{"sub":"<sub>"}`, or `invalid_token` for a token about no one.
fn subject<R: Requirement>(token: &AccessToken<R>) -> Result<Value, Rejection> {
    match &token.claims().sub {
        Some(sub) => Ok(json!({ "sub": sub })),
        None => Err(Rejection::invalid_token().with_description(NO_SUB).into()),
    }
}

/// Whom the token is about.
#[get("/me")]
fn me(token: AccessToken) -> Result<Value, Rejection> {
    subject(&token)
}

/// The same, for a token with the `admin` scope; any other valid token gets
/// 403 `insufficient_scope` naming the scope (RFC 6750 §3.1).
#[get("/admin")]
fn admin(token: AccessToken<Admin>) -> Result<Value, Rejection> {
    subject(&token)
}

/// The whole app, for `main` and the tests alike.
fn rocket(secret: &str) -> Rocket<Build> {
    // Rocket's defaults and `ROCKET_*`, without `Rocket.toml`: Rocket looks
    // for it in parent folders too, and would find the service's.
    let figment = Figment::from(Config::default())
        .merge(Env::prefixed("ROCKET_").global())
        .merge(("bearer_hmac_secret", secret))
        .merge(("bearer_audience", AUDIENCE))
        // Tokens signed with a shared secret are plain JWTs, not at+jwt.
        .merge(("bearer_accept_plain_jwt", true))
        // This example's issuer and API share one clock: no leeway.
        .merge(("bearer_leeway", 0));
    rocket::custom(figment)
        .attach(Verifier::fairing())
        .manage(REALM)
        .mount("/", routes![me, admin])
        .register("/", rocket_bearer::catchers())
}

fn main() -> ExitCode {
    let Ok(secret) = env::var("JWT_SECRET") else {
        return fail(
            "set JWT_SECRET to the HS256 secret the tokens are signed with (32 bytes or more)",
        );
    };
    // Not `rocket::execute`, which reads `Rocket.toml` to size its runtime.
    // Rocket warns about a runtime whose threads are not named like its own.
    let runtime = Builder::new_multi_thread()
        .thread_name("rocket-worker-thread")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => return fail(format_args!("cannot start the async runtime: {error}")),
    };
    match runtime.block_on(rocket(&secret).launch()) {
        Ok(_) => ExitCode::SUCCESS,
        // The verifier has logged the one line that names the bad key.
        Err(error) if matches!(error.kind(), ErrorKind::FailedFairings(_)) => ExitCode::FAILURE,
        Err(error) => fail(error),
    }
}

fn fail(error: impl Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpStream};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use jsonwebtoken::{Algorithm, EncodingKey, get_current_timestamp};
    use rocket::error::ErrorKind;
    use rocket::fairing::AdHoc;
    use rocket::http::Header;
    use rocket::local::blocking::Client;
    use rocket::serde::json::{Value, json};
    use rocket::tokio::runtime;
    use rocket::{Shutdown, routes};

    use super::{admin, me, rocket};

    const SECRET: &str = "the tests' secret, 32 bytes or more";
    /// The bound of every wait on the server over a socket.
    const TIMEOUT: Duration = Duration::from_secs(10);

    const ALICE: &str = r#"{"sub":"alice"}"#;
    const BAD_REQUEST: &str = r#"{"message":"Bad Request"}"#;
    const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
    const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

    const BASIC: &str = "Basic YWxpY2U6c2VjcmV0";
    /// Three b64token parts, but not base64url JSON.
    const NOT_A_JWT: &str = "abc.def.ghi";
    /// A comma is outside the b64token alphabet.
    const NOT_B64: &str = "abc,def";

    // Every refusal of the verifier also offers DPoP (RFC 9449 §7.2), its
    // error only on the Bearer challenge the request used.
    const ALGS: &str = "ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA";
    const DPOP: &str =
        r#"DPoP realm="jwt example", algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA""#;
    const DPOP_ADMIN: &str = r#"DPoP realm="jwt example", scope="admin", algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA""#;

    /// The Bearer challenge with these parameters after the realm, then the
    /// DPoP challenge without error (`dpop`).
    fn challenge(parameters: &str, dpop: &str) -> String {
        match parameters {
            "" => format!(r#"Bearer realm="jwt example", {dpop}"#),
            _ => format!(r#"Bearer realm="jwt example", {parameters}, {dpop}"#),
        }
    }

    fn invalid_token(description: &str) -> String {
        challenge(
            &format!(r#"error="invalid_token", error_description="{description}""#),
            DPOP,
        )
    }

    fn invalid_request(description: &str) -> String {
        challenge(
            &format!(r#"error="invalid_request", error_description="{description}""#),
            DPOP,
        )
    }

    /// What a client checks in an answer.
    #[derive(Debug, PartialEq)]
    struct Answer {
        status: u16,
        challenge: Option<String>,
        content_type: Option<String>,
        body: String,
    }

    /// 200 with Alice's subject.
    fn alice_answer() -> Answer {
        Answer {
            status: 200,
            challenge: None,
            content_type: Some("application/json".into()),
            body: ALICE.into(),
        }
    }

    /// A refusal: its status, its challenge, and the JSON body of its status.
    fn refused(status: u16, challenge: &str) -> Answer {
        let body = match status {
            400 => BAD_REQUEST,
            401 => UNAUTHORIZED,
            403 => FORBIDDEN,
            _ => panic!("{status} is not a refusal of this API"),
        };
        Answer {
            status,
            challenge: Some(challenge.into()),
            content_type: Some("application/json".into()),
            body: body.into(),
        }
    }

    /// `claims` signed as an issuer would, with `algorithm` and `secret`.
    fn signed(algorithm: Algorithm, secret: &str, claims: Value) -> String {
        let header = jsonwebtoken::Header::new(algorithm);
        let key = EncodingKey::from_secret(secret.as_bytes()).expect("an HMAC key");
        jsonwebtoken::encode(&header, &claims, &key).expect("the test signs its token")
    }

    fn token(claims: Value) -> String {
        signed(Algorithm::HS256, SECRET, claims)
    }

    fn in_ten_minutes() -> u64 {
        get_current_timestamp() + 600
    }

    /// Alice's token, without a scope.
    fn alice() -> String {
        token(json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes() }))
    }

    /// Alice's token, with the admin scope among others.
    fn alice_admin() -> String {
        token(
            json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes(), "scope": "read admin" }),
        )
    }

    /// Alice's token, expired a second ago: no leeway takes it.
    fn expired() -> String {
        token(json!({ "sub": "alice", "aud": "jwt-example", "exp": get_current_timestamp() - 1 }))
    }

    /// Alice's token, signed with another secret.
    fn forged() -> String {
        let claims = json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes() });
        signed(Algorithm::HS256, "another secret", claims)
    }

    /// Alice's token, signed with HS384 and the right secret.
    fn hs384() -> String {
        let claims = json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes() });
        signed(Algorithm::HS384, SECRET, claims)
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    /// `GET path` with these `Authorization` values, through Rocket's local
    /// client.
    fn get(path: &str, authorization: &[String]) -> Answer {
        let client = Client::untracked(rocket(SECRET)).expect("the example ignites");
        let mut request = client.get(path);
        for value in authorization {
            request.add_header(Header::new("Authorization", value.clone()));
        }
        let response = request.dispatch();
        let header = |name| response.headers().get_one(name).map(String::from);
        Answer {
            status: response.status().code,
            challenge: header("WWW-Authenticate"),
            content_type: header("Content-Type"),
            body: response.into_string().unwrap_or_default(),
        }
    }

    #[test]
    fn a_valid_token_gets_its_subject_from_me() {
        assert_eq!(get("/me", &[bearer(&alice())]), alice_answer());
        assert_eq!(get("/me", &[bearer(&alice_admin())]), alice_answer());
    }

    #[test]
    fn a_token_with_the_admin_scope_gets_its_subject_from_admin() {
        assert_eq!(get("/admin", &[bearer(&alice_admin())]), alice_answer());
    }

    #[test]
    fn a_token_without_the_admin_scope_is_insufficient_scope_on_admin() {
        let scope = "read administrator";
        let administrator = token(
            json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes(), "scope": scope }),
        );
        for scoped in [alice(), administrator] {
            assert_eq!(
                get("/admin", &[bearer(&scoped)]),
                refused(
                    403,
                    &challenge(r#"error="insufficient_scope", scope="admin""#, DPOP_ADMIN)
                )
            );
        }
    }

    #[test]
    fn a_request_without_authorization_is_challenged_without_an_error_code() {
        assert_eq!(get("/me", &[]), refused(401, &challenge("", DPOP)));
        // The route's required scope, named so that a client asks for it.
        assert_eq!(
            get("/admin", &[]),
            refused(401, &challenge(r#"scope="admin""#, DPOP_ADMIN))
        );
    }

    #[test]
    fn another_scheme_is_challenged_without_an_error_code() {
        assert_eq!(
            get("/me", &[BASIC.into()]),
            refused(401, &challenge("", DPOP))
        );
    }

    #[test]
    fn an_expired_token_is_invalid_token_with_a_description() {
        assert_eq!(
            get("/me", &[bearer(&expired())]),
            refused(401, &invalid_token("the token has expired"))
        );
    }

    #[test]
    fn a_forged_token_is_invalid_token_with_a_description() {
        assert_eq!(
            get("/me", &[bearer(&forged())]),
            refused(401, &invalid_token("the token's signature does not match"))
        );
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_invalid_token_with_a_description() {
        assert_eq!(
            get("/me", &[bearer(&hs384())]),
            refused(401, &invalid_token("the token is not signed with HS256"))
        );
    }

    #[test]
    fn each_failed_check_is_invalid_token_with_a_description_naming_it() {
        let no_exp = token(json!({ "sub": "alice", "aud": "jwt-example" }));
        let no_sub = token(json!({ "aud": "jwt-example", "exp": in_ten_minutes() }));
        let elsewhere =
            token(json!({ "sub": "alice", "aud": "another-api", "exp": in_ten_minutes() }));
        let not_yet = token(
            json!({ "sub": "alice", "aud": "jwt-example", "exp": in_ten_minutes(), "nbf": in_ten_minutes() - 60 }),
        );
        let cases = [
            (
                NOT_A_JWT.to_owned(),
                &invalid_token("the token cannot be decoded as a JWT"),
            ),
            (not_yet, &invalid_token("the token is not valid yet (nbf)")),
            (no_exp, &invalid_token("the token has no exp claim")),
            (
                no_sub,
                &r#"Bearer realm="jwt example", error="invalid_token", error_description="the token has no sub claim""#.to_owned(),
            ),
            (
                elsewhere,
                &invalid_token("the token is not meant for this resource (aud)"),
            ),
        ];
        for (refused_token, challenge) in cases {
            let answer = get("/me", &[bearer(&refused_token)]);
            assert_eq!(answer, refused(401, challenge), "{refused_token}");
        }
    }

    #[test]
    fn a_repeated_authorization_header_is_invalid_request() {
        let twice = [bearer(&alice()), bearer(&alice())];
        assert_eq!(
            get("/me", &twice),
            refused(
                400,
                &format!(
                    r#"Bearer realm="jwt example", error="invalid_request", error_description="send one Authorization header, not several", DPoP realm="jwt example", error="invalid_request", error_description="send one Authorization header, not several", algs="{ALGS}""#
                )
            )
        );
    }

    #[test]
    fn bearer_without_a_token_is_invalid_request() {
        assert_eq!(
            get("/me", &["Bearer".into()]),
            refused(400, &invalid_request("no token after Bearer"))
        );
    }

    #[test]
    fn a_token_that_is_not_a_b64token_is_invalid_request() {
        assert_eq!(
            get("/me", &[bearer(NOT_B64)]),
            refused(
                400,
                &invalid_request("the token is not a b64token of RFC 6750 section 2.1")
            )
        );
    }

    #[test]
    fn the_example_refuses_to_launch_without_the_library_catchers() {
        let rocket = rocket::custom(rocket(SECRET).figment().clone())
            .attach(rocket_bearer::verify::Verifier::fairing())
            .mount("/", routes![me, admin]);
        let Err(error) = Client::untracked(rocket) else {
            panic!("the rocket ignited without the catchers");
        };
        let ErrorKind::SentinelAborts(sentries) = error.kind() else {
            panic!("ignition failed for another reason: {error}");
        };
        let aborted: Vec<&str> = sentries.iter().map(|sentry| sentry.type_name).collect();
        // One for each route's guard.
        assert_eq!(
            aborted,
            [
                "rocket_bearer::verify::AccessToken",
                "rocket_bearer::verify::AccessToken<jwt::Admin>"
            ]
        );
    }

    /// The example's rocket, launched in this process on an ephemeral
    /// loopback port: the port, the handle that stops it, and word of its end.
    fn serve() -> (u16, Shutdown, mpsc::Receiver<Result<(), String>>) {
        let rocket = rocket(SECRET);
        let figment = rocket
            .figment()
            .clone()
            .merge(("address", Ipv4Addr::LOCALHOST))
            .merge(("port", 0))
            // Signals stay the test process's own.
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.signals", Vec::<String>::new()));
        let (lifted_off, port) = mpsc::channel();
        let rocket = rocket
            .configure(figment)
            .attach(AdHoc::on_liftoff("Port", |rocket| {
                Box::pin(async move {
                    let _ = lifted_off.send(rocket.config().port);
                })
            }));
        let runtime = runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the server");
        let rocket = runtime
            .block_on(rocket.ignite())
            .expect("the example ignites");
        let shutdown = rocket.shutdown();
        let (ended, end) = mpsc::channel();
        thread::spawn(move || {
            let launched = runtime.block_on(rocket.launch());
            let _ = ended.send(launched.map(drop).map_err(|error| error.to_string()));
        });
        let port = port.recv_timeout(TIMEOUT).expect("the example listens");
        (port, shutdown, end)
    }

    /// `GET path` with these `Authorization` lines, as raw HTTP/1.1 over TCP.
    fn get_over_socket(port: u16, path: &str, authorization: &[String]) -> Answer {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connects");
        stream
            .set_read_timeout(Some(TIMEOUT))
            .expect("a read timeout");
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for value in authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .expect("sends the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("the answer, then the end of the connection");

        let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|line| line.split(' ').nth(1));
        let status = status
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let headers: Vec<(String, &str)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
            .collect();
        let header = |name: &str| {
            let mut values = headers.iter().filter(|(n, _)| n == name);
            let value = values.next().map(|(_, value)| value.to_string());
            assert!(values.next().is_none(), "one {name} header");
            value
        };
        assert_eq!(header("content-length"), Some(body.len().to_string()));
        Answer {
            status,
            challenge: header("www-authenticate"),
            content_type: header("content-type"),
            body: body.into(),
        }
    }

    #[test]
    fn the_example_answers_every_case_over_a_real_socket() {
        let (as_alice, as_admin) = (bearer(&alice()), bearer(&alice_admin()));
        let cases = [
            ("/me", vec![as_alice.clone()], alice_answer()),
            ("/admin", vec![as_admin], alice_answer()),
            (
                "/admin",
                vec![as_alice.clone()],
                refused(
                    403,
                    &challenge(r#"error="insufficient_scope", scope="admin""#, DPOP_ADMIN),
                ),
            ),
            ("/me", vec![], refused(401, &challenge("", DPOP))),
            (
                "/admin",
                vec![],
                refused(401, &challenge(r#"scope="admin""#, DPOP_ADMIN)),
            ),
            (
                "/me",
                vec![BASIC.into()],
                refused(401, &challenge("", DPOP)),
            ),
            (
                "/me",
                vec![bearer(&expired())],
                refused(401, &invalid_token("the token has expired")),
            ),
            (
                "/me",
                vec![bearer(&forged())],
                refused(401, &invalid_token("the token's signature does not match")),
            ),
            (
                "/me",
                vec![bearer(&hs384())],
                refused(401, &invalid_token("the token is not signed with HS256")),
            ),
            (
                "/me",
                vec![bearer(NOT_A_JWT)],
                refused(401, &invalid_token("the token cannot be decoded as a JWT")),
            ),
            (
                "/me",
                vec![as_alice.clone(), as_alice],
                refused(
                    400,
                    &format!(
                        r#"Bearer realm="jwt example", error="invalid_request", error_description="send one Authorization header, not several", DPoP realm="jwt example", error="invalid_request", error_description="send one Authorization header, not several", algs="{ALGS}""#
                    ),
                ),
            ),
            (
                "/me",
                vec!["Bearer".into()],
                refused(400, &invalid_request("no token after Bearer")),
            ),
            (
                "/me",
                vec![bearer(NOT_B64)],
                refused(
                    400,
                    &invalid_request("the token is not a b64token of RFC 6750 section 2.1"),
                ),
            ),
        ];

        let (port, shutdown, end) = serve();
        let answers: Vec<Answer> = cases
            .iter()
            .map(|(path, authorization, _)| get_over_socket(port, path, authorization))
            .collect();
        shutdown.notify();
        let ended = end.recv_timeout(TIMEOUT).expect("the example stops");

        for ((path, authorization, expected), answer) in cases.iter().zip(answers) {
            assert_eq!(&answer, expected, "GET {path} with {authorization:?}");
        }
        assert_eq!(ended, Ok(()));
    }
}
