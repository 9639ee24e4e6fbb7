//! An API that accepts real tokens: HS256 JSON Web Tokens (RFC 7519, RFC 7518
//! §3.2) verified with `jsonwebtoken`, and every refusal answered by
//! `rocket_bearer` as RFC 6750 §3.1 says.
//!
//! ```sh
//! JWT_SECRET=change-me cargo run -p rocket-bearer --example jwt
//! ```
//!
//! It serves on `ROCKET_PORT` (default 8000). `GET /me` takes any valid token
//! and answers `{"sub":"<sub>"}`; `GET /admin` does the same for a token whose
//! `scope` includes `admin`, and answers the others 403 `insufficient_scope`.
//! A token's claims are `sub`, `exp` (required, no leeway) and `scope`, a
//! space-separated list (RFC 8693 §4.2), absent when the token grants none.

use std::env;
use std::fmt::Display;
use std::process::ExitCode;

use jsonwebtoken::errors::{Error as JwtError, ErrorKind as JwtErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::figment::providers::Env;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::{Value, json};
use rocket::tokio::runtime::Builder;
use rocket::{Build, Config, Ignite, Rocket, Sentinel, State, get, routes};
use rocket_bearer::{Credentials, Description, Malformed, Realm, Rejection, Scope};
use serde::Deserialize;

/// The realm every challenge names (RFC 6750 §3).
const REALM: Realm = Realm::from_static("jwt example");

/// The scope `GET /admin` needs.
const ADMIN: Scope = Scope::from_static("admin");

// The `error_description` of each refusal (RFC 6750 §3), checked against its
// character rule when this compiles.
const REPEATED: Description =
    Description::from_static("send one Authorization header, not several");
const NO_TOKEN: Description = Description::from_static("no token after Bearer");
const NOT_B64TOKEN: Description =
    Description::from_static("the token is not a b64token of RFC 6750 section 2.1");
const EXPIRED: Description = Description::from_static("the token has expired");
const FORGED: Description = Description::from_static("the token's signature does not match");
const NOT_HS256: Description = Description::from_static("the token is not signed with HS256");
const UNDECODABLE: Description =
    Description::from_static("the token cannot be decoded as a JWT with sub and exp");

/// A request with a valid token: add this parameter to a handler to require
/// one. Its fields are the token's claims.
#[derive(Debug, Deserialize)]
struct User {
    /// Whom the token is about (RFC 7519 §4.1.2).
    sub: String,
    /// What the token grants, space-separated (RFC 8693 §4.2).
    scope: Option<String>,
}

impl User {
    /// Whether the token grants `scope`: a whole scope token, so `admin` is
    /// not granted by `administrator`.
    fn has_scope(&self, scope: &Scope) -> bool {
        let granted = self.scope.as_deref().unwrap_or_default();
        granted.split(' ').any(|token| token == scope.as_str())
    }
}

/// Why [`User`] refuses a request.
#[derive(Debug)]
enum Refusal {
    /// No `Authorization`, or a scheme other than Bearer.
    NoCredentials,
    /// An `Authorization` that breaks RFC 6750 §2.1.
    Malformed(Malformed),
    /// `exp` is past (RFC 7519 §4.1.4).
    Expired,
    /// The signature is not made with the secret (RFC 7515 §5.2).
    Forged,
    /// Signed with an algorithm other than HS256.
    NotHs256,
    /// Not a JWT, or one without `sub` or `exp`.
    Undecodable,
}

impl Refusal {
    /// The RFC 6750 §3.1 answer to each reason.
    fn rejection(&self) -> Rejection {
        match self {
            Refusal::NoCredentials => Rejection::missing_credentials(),
            Refusal::Malformed(Malformed::Repeated) => Rejection::invalid_request()
                .with_description(REPEATED)
                .into(),
            Refusal::Malformed(Malformed::NoToken) => Rejection::invalid_request()
                .with_description(NO_TOKEN)
                .into(),
            Refusal::Malformed(Malformed::NotB64Token) => Rejection::invalid_request()
                .with_description(NOT_B64TOKEN)
                .into(),
            Refusal::Expired => Rejection::invalid_token().with_description(EXPIRED).into(),
            Refusal::Forged => Rejection::invalid_token().with_description(FORGED).into(),
            Refusal::NotHs256 => Rejection::invalid_token()
                .with_description(NOT_HS256)
                .into(),
            Refusal::Undecodable => Rejection::invalid_token()
                .with_description(UNDECODABLE)
                .into(),
        }
    }
}

impl From<JwtError> for Refusal {
    fn from(error: JwtError) -> Refusal {
        match error.kind() {
            JwtErrorKind::ExpiredSignature => Refusal::Expired,
            JwtErrorKind::InvalidSignature => Refusal::Forged,
            JwtErrorKind::InvalidAlgorithm => Refusal::NotHs256,
            _ => Refusal::Undecodable,
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = Refusal;

    async fn from_request(request: &'r Request<'_>) -> Outcome<User, Refusal> {
        // Never taken: `User`'s Sentinel stops the launch without the key.
        let Some(key) = request.rocket().state::<DecodingKey>() else {
            return Outcome::Forward(Status::InternalServerError);
        };
        let verified = match Credentials::read(request) {
            Credentials::Bearer(token) => verify(token.as_str(), key),
            Credentials::Malformed(malformed) => Err(Refusal::Malformed(malformed)),
            // Missing, or another scheme: no Bearer credentials at all.
            Credentials::Missing | Credentials::OtherScheme => Err(Refusal::NoCredentials),
        };
        match verified {
            Ok(user) => Outcome::Success(user),
            Err(refusal) => {
                // Rocket drops the guard's error; the library's catcher for
                // the status answers with the reason recorded here.
                let rejection = refusal.rejection();
                rejection.record(request);
                Outcome::Error((rejection.status(), refusal))
            }
        }
    }
}

/// A route that takes a `User` stops the launch, with an error naming what is
/// missing, when the library's catchers or the key are not there.
impl Sentinel for User {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        rocket_bearer::catchers_missing(rocket) || <&State<DecodingKey>>::abort(rocket)
    }
}

/// HS256 only, `exp` required (`Validation::new` requires it) and checked
/// without leeway (RFC 7519 §4.1.4).
fn verify(token: &str, key: &DecodingKey) -> Result<User, Refusal> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let verified = jsonwebtoken::decode::<User>(token, key, &validation)?;
    Ok(verified.claims)
}

/// Whom the token is about.
#[get("/me")]
fn me(user: User) -> Value {
    json!({ "sub": user.sub })
}

/// The same, for a token with the `admin` scope; any other valid token gets
/// 403 `insufficient_scope` naming the scope (RFC 6750 §3.1).
#[get("/admin")]
fn admin(user: User) -> Result<Value, Rejection> {
    if !user.has_scope(&ADMIN) {
        return Err(Rejection::insufficient_scope(ADMIN).into());
    }
    Ok(json!({ "sub": user.sub }))
}

/// The whole app, for `main` and the tests alike.
fn rocket(secret: &[u8]) -> Rocket<Build> {
    // Rocket's defaults and `ROCKET_*`, without `Rocket.toml`: Rocket looks
    // for it in parent folders too, and would find the service's.
    let figment = Figment::from(Config::default()).merge(Env::prefixed("ROCKET_").global());
    rocket::custom(figment)
        .manage(DecodingKey::from_secret(secret))
        .manage(REALM)
        .mount("/", routes![me, admin])
        .register("/", rocket_bearer::catchers())
}

fn main() -> ExitCode {
    let Some(secret) = env::var_os("JWT_SECRET").filter(|secret| !secret.is_empty()) else {
        return fail("set JWT_SECRET to the HS256 secret the tokens are signed with");
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
    match runtime.block_on(rocket(secret.as_encoded_bytes()).launch()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => match error.kind() {
            // Rocket's own message is only "failed to extract configuration".
            ErrorKind::Config(error) => fail(error),
            _ => fail(error),
        },
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

    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, get_current_timestamp};
    use rocket::error::ErrorKind;
    use rocket::fairing::AdHoc;
    use rocket::http::Header;
    use rocket::local::blocking::Client;
    use rocket::serde::json::{Value, json};
    use rocket::tokio::runtime;
    use rocket::{Shutdown, routes};

    use super::{admin, me, rocket};

    const SECRET: &str = "the tests' secret";
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

    const NO_ERROR: &str = r#"Bearer realm="jwt example""#;
    const NOT_ADMIN: &str =
        r#"Bearer realm="jwt example", error="insufficient_scope", scope="admin""#;
    const EXPIRED: &str = r#"Bearer realm="jwt example", error="invalid_token", error_description="the token has expired""#;
    const FORGED: &str = r#"Bearer realm="jwt example", error="invalid_token", error_description="the token's signature does not match""#;
    const NOT_HS256: &str = r#"Bearer realm="jwt example", error="invalid_token", error_description="the token is not signed with HS256""#;
    const UNDECODABLE: &str = r#"Bearer realm="jwt example", error="invalid_token", error_description="the token cannot be decoded as a JWT with sub and exp""#;
    const REPEATED: &str = r#"Bearer realm="jwt example", error="invalid_request", error_description="send one Authorization header, not several""#;
    const NO_TOKEN: &str = r#"Bearer realm="jwt example", error="invalid_request", error_description="no token after Bearer""#;
    const NOT_B64TOKEN: &str = r#"Bearer realm="jwt example", error="invalid_request", error_description="the token is not a b64token of RFC 6750 section 2.1""#;

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
        let key = EncodingKey::from_secret(secret.as_bytes());
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
        token(json!({ "sub": "alice", "exp": in_ten_minutes() }))
    }

    /// Alice's token, with the admin scope among others.
    fn alice_admin() -> String {
        token(json!({ "sub": "alice", "exp": in_ten_minutes(), "scope": "read admin" }))
    }

    /// Alice's token, expired a second ago: no leeway takes it.
    fn expired() -> String {
        token(json!({ "sub": "alice", "exp": get_current_timestamp() - 1 }))
    }

    /// Alice's token, signed with another secret.
    fn forged() -> String {
        let claims = json!({ "sub": "alice", "exp": in_ten_minutes() });
        signed(Algorithm::HS256, "another secret", claims)
    }

    /// Alice's token, signed with HS384 and the right secret.
    fn hs384() -> String {
        let claims = json!({ "sub": "alice", "exp": in_ten_minutes() });
        signed(Algorithm::HS384, SECRET, claims)
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    /// `GET path` with these `Authorization` values, through Rocket's local
    /// client.
    fn get(path: &str, authorization: &[String]) -> Answer {
        let client = Client::untracked(rocket(SECRET.as_bytes())).expect("the example ignites");
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
        let administrator =
            token(json!({ "sub": "alice", "exp": in_ten_minutes(), "scope": scope }));
        for scoped in [alice(), administrator] {
            assert_eq!(get("/admin", &[bearer(&scoped)]), refused(403, NOT_ADMIN));
        }
    }

    #[test]
    fn a_request_without_authorization_is_challenged_without_an_error_code() {
        for path in ["/me", "/admin"] {
            assert_eq!(get(path, &[]), refused(401, NO_ERROR));
        }
    }

    #[test]
    fn another_scheme_is_challenged_without_an_error_code() {
        assert_eq!(get("/me", &[BASIC.into()]), refused(401, NO_ERROR));
    }

    #[test]
    fn an_expired_token_is_invalid_token_with_a_description() {
        assert_eq!(get("/me", &[bearer(&expired())]), refused(401, EXPIRED));
    }

    #[test]
    fn a_forged_token_is_invalid_token_with_a_description() {
        assert_eq!(get("/me", &[bearer(&forged())]), refused(401, FORGED));
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_invalid_token_with_a_description() {
        assert_eq!(get("/me", &[bearer(&hs384())]), refused(401, NOT_HS256));
    }

    #[test]
    fn an_undecodable_token_is_invalid_token_with_a_description() {
        let no_exp = token(json!({ "sub": "alice" }));
        let no_sub = token(json!({ "exp": in_ten_minutes() }));
        for undecodable in [NOT_A_JWT.into(), no_exp, no_sub] {
            let answer = get("/me", &[bearer(&undecodable)]);
            assert_eq!(answer, refused(401, UNDECODABLE), "{undecodable}");
        }
    }

    #[test]
    fn a_repeated_authorization_header_is_invalid_request() {
        let twice = [bearer(&alice()), bearer(&alice())];
        assert_eq!(get("/me", &twice), refused(400, REPEATED));
    }

    #[test]
    fn bearer_without_a_token_is_invalid_request() {
        assert_eq!(get("/me", &["Bearer".into()]), refused(400, NO_TOKEN));
    }

    #[test]
    fn a_token_that_is_not_a_b64token_is_invalid_request() {
        assert_eq!(get("/me", &[bearer(NOT_B64)]), refused(400, NOT_B64TOKEN));
    }

    #[test]
    fn the_example_refuses_to_launch_without_the_library_catchers() {
        let rocket = rocket::build()
            .manage(DecodingKey::from_secret(SECRET.as_bytes()))
            .mount("/", routes![me, admin]);
        let Err(error) = Client::untracked(rocket) else {
            panic!("the rocket ignited without the catchers");
        };
        let ErrorKind::SentinelAborts(sentries) = error.kind() else {
            panic!("ignition failed for another reason: {error}");
        };
        let aborted: Vec<&str> = sentries.iter().map(|sentry| sentry.type_name).collect();
        // One for each route that takes a `User`.
        assert_eq!(aborted, ["jwt::User", "jwt::User"]);
    }

    /// The example's rocket, launched in this process on an ephemeral
    /// loopback port: the port, the handle that stops it, and word of its end.
    fn serve() -> (u16, Shutdown, mpsc::Receiver<Result<(), String>>) {
        let rocket = rocket(SECRET.as_bytes());
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
            ("/admin", vec![as_alice.clone()], refused(403, NOT_ADMIN)),
            ("/me", vec![], refused(401, NO_ERROR)),
            ("/admin", vec![], refused(401, NO_ERROR)),
            ("/me", vec![BASIC.into()], refused(401, NO_ERROR)),
            ("/me", vec![bearer(&expired())], refused(401, EXPIRED)),
            ("/me", vec![bearer(&forged())], refused(401, FORGED)),
            ("/me", vec![bearer(&hs384())], refused(401, NOT_HS256)),
            ("/me", vec![bearer(NOT_A_JWT)], refused(401, UNDECODABLE)),
            (
                "/me",
                vec![as_alice.clone(), as_alice],
                refused(400, REPEATED),
            ),
            ("/me", vec!["Bearer".into()], refused(400, NO_TOKEN)),
            ("/me", vec![bearer(NOT_B64)], refused(400, NOT_B64TOKEN)),
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
