//! The library in an app, through Rocket's local client: every answer of
//! RFC 6750 §3.1, the record that carries a guard's reason to the catcher,
//! the catchers beside an app's own, and the launch check.

use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Build, Catcher, Rocket, catch, catchers, get, routes};
use rocket_bearer::{Credentials, Description, ErrorUri, Realm, Rejection, Scope};

const EXPIRED: Description = Description::from_static("the token has expired");
const HELP: ErrorUri = ErrorUri::from_static("https://api.example/errors");

/// A guard whose reason is chosen by the token, one token per answer.
struct Scripted;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scripted {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        let token = match Credentials::require(request) {
            Ok(token) => token,
            Err(rejection) => return rejection.reject(request),
        };
        let error = match token.as_str() {
            "good" => return Outcome::Success(Scripted),
            "expired" => Rejection::invalid_token()
                .with_description(EXPIRED)
                .with_uri(HELP),
            "reader" => Rejection::insufficient_scope(Scope::from_static("admin write")),
            "reader-told" => Rejection::insufficient_scope(Scope::from_static("admin"))
                .with_description(Description::from_static(
                    "this resource needs the admin scope",
                )),
            _ => Rejection::invalid_token(),
        };
        error.reject(request)
    }
}

#[get("/scripted")]
fn scripted(_guard: Scripted) -> &'static str {
    "in"
}

fn app() -> Rocket<Build> {
    rocket::build()
        .mount("/", routes![scripted])
        .manage(Realm::from_static("api"))
        .register("/", rocket_bearer::catchers())
}

fn get<'c>(
    client: &'c Client,
    uri: &str,
    headers: &[(&'static str, &'static str)],
) -> LocalResponse<'c> {
    let mut request = client.get(uri.to_owned());
    for &(name, value) in headers {
        request.add_header(Header::new(name, value));
    }
    request.dispatch()
}

/// Status, challenge (or none), Content-Type, `Vary: Accept` and the body,
/// byte for byte.
fn assert_answer(
    response: LocalResponse<'_>,
    status: u16,
    challenge: Option<&str>,
    content_type: &str,
    body: &str,
) {
    assert_eq!(response.status().code, status);
    let challenges: Vec<&str> = response.headers().get("WWW-Authenticate").collect();
    assert_eq!(challenges, challenge.into_iter().collect::<Vec<_>>());
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some(content_type)
    );
    assert_eq!(response.headers().get_one("Vary"), Some("Accept"));
    assert_eq!(response.into_string().as_deref(), Some(body));
}

/// Request headers, in order.
type Headers = &'static [(&'static str, &'static str)];

const JSON: &str = "application/json";
const PROBLEM: &str = "application/problem+json";
const PREFERS_PROBLEM: (&str, &str) = ("Accept", "application/problem+json");

#[test]
fn each_reason_gets_its_status_challenge_and_body() {
    let client = Client::untracked(app()).expect("the app ignites");
    let cases: [(Headers, u16, &str, &str); 6] = [
        (
            &[],
            401,
            r#"Bearer realm="api""#,
            r#"{"message":"Unauthorized"}"#,
        ),
        (
            &[("Authorization", "Basic YTpi")],
            401,
            r#"Bearer realm="api""#,
            r#"{"message":"Unauthorized"}"#,
        ),
        (
            &[("Authorization", "Bearer")],
            400,
            r#"Bearer realm="api", error="invalid_request", error_description="no token after Bearer""#,
            r#"{"message":"Bad Request"}"#,
        ),
        (
            &[("Authorization", "Bearer guess")],
            401,
            r#"Bearer realm="api", error="invalid_token""#,
            r#"{"message":"Unauthorized"}"#,
        ),
        (
            &[("Authorization", "Bearer expired")],
            401,
            r#"Bearer realm="api", error="invalid_token", error_description="the token has expired", error_uri="https://api.example/errors""#,
            r#"{"message":"Unauthorized"}"#,
        ),
        (
            &[("Authorization", "Bearer reader")],
            403,
            r#"Bearer realm="api", error="insufficient_scope", scope="admin write""#,
            r#"{"message":"Forbidden"}"#,
        ),
    ];
    for (headers, status, challenge, body) in cases {
        let response = get(&client, "/scripted", headers);
        assert_answer(response, status, Some(challenge), JSON, body);
    }
    let welcome = get(&client, "/scripted", &[("Authorization", "Bearer good")]);
    assert_eq!(welcome.status(), Status::Ok);
    assert_eq!(welcome.into_string().as_deref(), Some("in"));
}

#[test]
fn problem_details_carry_the_description_as_detail_and_only_then() {
    let client = Client::untracked(app()).expect("the app ignites");
    let cases = [
        (
            "Bearer reader-told",
            403,
            r#"Bearer realm="api", error="insufficient_scope", error_description="this resource needs the admin scope", scope="admin""#,
            r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"this resource needs the admin scope"}"#,
        ),
        (
            "Bearer reader",
            403,
            r#"Bearer realm="api", error="insufficient_scope", scope="admin write""#,
            r#"{"type":"about:blank","title":"Forbidden","status":403}"#,
        ),
        (
            "Bearer a b",
            400,
            r#"Bearer realm="api", error="invalid_request", error_description="the token is not a b64token of RFC 6750 section 2.1""#,
            r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"the token is not a b64token of RFC 6750 section 2.1"}"#,
        ),
        (
            "Bearer expired",
            401,
            r#"Bearer realm="api", error="invalid_token", error_description="the token has expired", error_uri="https://api.example/errors""#,
            r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"the token has expired"}"#,
        ),
    ];
    for (authorization, status, challenge, body) in cases {
        let headers = [("Authorization", authorization), PREFERS_PROBLEM];
        let response = get(&client, "/scripted", &headers);
        assert_answer(response, status, Some(challenge), PROBLEM, body);
    }
}

#[test]
fn without_a_managed_realm_the_challenge_has_none() {
    let rocket = rocket::build()
        .mount("/", routes![scripted])
        .register("/", rocket_bearer::catchers());
    let client = Client::untracked(rocket).expect("the app ignites");
    let none = get(&client, "/scripted", &[]);
    assert_eq!(none.headers().get_one("WWW-Authenticate"), Some("Bearer"));
    let guess = get(&client, "/scripted", &[("Authorization", "Bearer guess")]);
    assert_eq!(
        guess.headers().get_one("WWW-Authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
}

/// Refuses with 401 `invalid_token` when the request says so, and is taken
/// as `Option<_>` below, so its refusal does not end the request.
struct Optional;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Optional {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        match request.headers().get_one("X-Optional") {
            Some("401") => Rejection::invalid_token().reject(request),
            Some("403") => {
                Rejection::insufficient_scope(Scope::from_static("early")).reject(request)
            }
            _ => Outcome::Success(Optional),
        }
    }
}

/// A guard with an error type of its own: it records the reason, and
/// returns its own outcome.
struct OwnError;

#[derive(Debug)]
#[allow(dead_code)] // read only through Debug, by Rocket's log
enum NotAllowed {
    WrongTeam,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OwnError {
    type Error = NotAllowed;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, NotAllowed> {
        let rejection = Rejection::from(Rejection::insufficient_scope(Scope::from_static("team")));
        rejection.record(request);
        Outcome::Error((rejection.status(), NotAllowed::WrongTeam))
    }
}

#[get("/both")]
fn both(_optional: Option<Optional>, _failing: OwnError) -> &'static str {
    "never"
}

#[get("/optional-then-ok")]
fn optional_then_ok(_optional: Option<Optional>) -> Status {
    Status::Unauthorized
}

#[test]
fn the_guard_that_failed_wins_over_an_optional_one_that_refused_before_it() {
    let rocket = rocket::build()
        .mount("/", routes![both, optional_then_ok])
        .manage(Realm::from_static("api"))
        .register("/", rocket_bearer::catchers());
    let client = Client::untracked(rocket).expect("the app ignites");

    // The optional guard recorded invalid_token (401); the failing guard then
    // recorded insufficient_scope (403), and the 403 is what was caught.
    let response = get(&client, "/both", &[("X-Optional", "401")]);
    assert_answer(
        response,
        403,
        Some(r#"Bearer realm="api", error="insufficient_scope", scope="team""#),
        JSON,
        r#"{"message":"Forbidden"}"#,
    );

    // A record whose status is not the one caught is not used: the handler's
    // own 401 follows an optional guard's 403, and gets the challenge without
    // an error code.
    let response = get(&client, "/optional-then-ok", &[("X-Optional", "403")]);
    assert_answer(
        response,
        401,
        Some(r#"Bearer realm="api""#),
        JSON,
        r#"{"message":"Unauthorized"}"#,
    );
}

#[get("/reports")]
fn reports() -> Result<&'static str, Rejection> {
    Err(Rejection::insufficient_scope(Scope::from_static("reports")).into())
}

#[test]
fn a_handler_may_return_a_rejection_and_it_is_recorded() {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let recorder = rocket::fairing::AdHoc::on_response("record", move |request, _| {
        let sender = sender.clone();
        Box::pin(async move {
            let _ = sender.try_send(Rejection::recorded(request));
        })
    });
    let rocket = rocket::build()
        .mount("/", routes![reports])
        .manage(Realm::from_static("api"))
        .register("/", rocket_bearer::catchers())
        .attach(recorder);
    let client = Client::untracked(rocket).expect("the app ignites");
    let response = get(&client, "/reports", &[]);
    assert_answer(
        response,
        403,
        Some(r#"Bearer realm="api", error="insufficient_scope", scope="reports""#),
        JSON,
        r#"{"message":"Forbidden"}"#,
    );
    let recorded = receiver.recv().expect("the fairing ran");
    assert_eq!(
        recorded,
        Some(Rejection::insufficient_scope(Scope::from_static("reports")).into())
    );
}

#[catch(default)]
fn app_default(status: Status, _request: &Request<'_>) -> String {
    format!("app default {}", status.code)
}

/// A 400 of the app's own, not a guard's.
#[get("/bad")]
fn bad() -> Status {
    Status::BadRequest
}

#[get("/forbidden")]
fn forbidden() -> Status {
    Status::Forbidden
}

fn app_with_own_default() -> Rocket<Build> {
    rocket::build()
        .mount("/", routes![scripted, bad, forbidden])
        .manage(Realm::from_static("api"))
        .register("/", rocket_bearer::catchers())
        .register("/", catchers![app_default])
}

#[test]
fn an_app_with_its_own_default_catcher_registers_the_catchers_without_collision() {
    let client = Client::untracked(app_with_own_default()).expect("no collision at ignite");

    // The app's own 400 and 403 reach its own default catcher,
    // as they did before it used the library.
    let own = get(&client, "/bad", &[]);
    assert_eq!(own.status(), Status::BadRequest);
    assert_eq!(own.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(own.into_string().as_deref(), Some("app default 400"));
    let bare = get(&client, "/forbidden", &[]);
    assert_eq!(bare.status(), Status::Forbidden);
    assert_eq!(bare.into_string().as_deref(), Some("app default 403"));

    // The guards' reasons still get the library's answers, and other
    // statuses stay the app's.
    let malformed = get(&client, "/scripted", &[("Authorization", "Bearer")]);
    assert_answer(
        malformed,
        400,
        Some(
            r#"Bearer realm="api", error="invalid_request", error_description="no token after Bearer""#,
        ),
        JSON,
        r#"{"message":"Bad Request"}"#,
    );
    let missing = get(&client, "/nowhere", &[]);
    assert_eq!(missing.into_string().as_deref(), Some("app default 404"));
}

#[test]
fn without_a_default_catcher_an_unexplained_400_or_403_is_json_without_a_challenge() {
    let rocket = rocket::build()
        .mount("/", routes![bad, forbidden])
        .register("/", rocket_bearer::catchers());
    let client = Client::untracked(rocket).expect("the app ignites");
    let own = get(&client, "/bad", &[]);
    assert_answer(own, 400, None, JSON, r#"{"message":"Bad Request"}"#);
    let bare = get(&client, "/forbidden", &[PREFERS_PROBLEM]);
    assert_answer(
        bare,
        403,
        None,
        PROBLEM,
        r#"{"type":"about:blank","title":"Forbidden","status":403}"#,
    );
}

#[test]
fn the_opt_in_default_catcher_makes_every_other_status_json() {
    let rocket = rocket::build()
        .register("/", rocket_bearer::catchers())
        .register("/", [rocket_bearer::default_catcher()]);
    let client = Client::untracked(rocket).expect("the app ignites");
    let missing = get(&client, "/nowhere", &[]);
    assert_answer(missing, 404, None, JSON, r#"{"message":"Not Found"}"#);
    let missing = get(&client, "/nowhere", &[PREFERS_PROBLEM]);
    assert_answer(
        missing,
        404,
        None,
        PROBLEM,
        r#"{"type":"about:blank","title":"Not Found","status":404}"#,
    );
}

#[catch(403)]
fn own_forbidden(request: &Request<'_>) -> Result<Rejection, &'static str> {
    Rejection::caught(Status::Forbidden, request).ok_or("our own 403")
}

#[test]
fn an_app_that_keeps_its_own_catcher_can_render_the_reason_from_it() {
    let mut bearer = rocket_bearer::catchers();
    bearer.retain(|catcher| catcher.code != Some(403));
    let rocket = rocket::build()
        .mount("/", routes![scripted, forbidden])
        .manage(Realm::from_static("api"))
        .register("/", bearer)
        .register("/", catchers![own_forbidden]);
    let client = Client::untracked(rocket).expect("the app ignites");
    let reader = get(&client, "/scripted", &[("Authorization", "Bearer reader")]);
    assert_answer(
        reader,
        403,
        Some(r#"Bearer realm="api", error="insufficient_scope", scope="admin write""#),
        JSON,
        r#"{"message":"Forbidden"}"#,
    );
    let bare = get(&client, "/forbidden", &[]);
    assert_eq!(bare.into_string().as_deref(), Some("our own 403"));
}

#[get("/credentials")]
fn named(credentials: Credentials<'_>) -> String {
    format!("{credentials:?}")
}

/// The app's own guard, checked at launch through its own `Sentinel`.
struct User;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        Rejection::missing_credentials().reject(request)
    }
}

impl rocket::Sentinel for User {
    fn abort(rocket: &Rocket<rocket::Ignite>) -> bool {
        rocket_bearer::catchers_missing(rocket)
    }
}

#[get("/user")]
fn user(_user: User) -> &'static str {
    "never"
}

#[test]
fn forgetting_the_catchers_stops_the_launch() {
    let aborted = |rocket: Rocket<Build>| match Client::untracked(rocket) {
        Err(error) => matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
        Ok(_) => false,
    };
    assert!(aborted(rocket::build().mount("/", routes![named])));
    assert!(aborted(rocket::build().mount("/", routes![user])));

    // Two of the three are not enough.
    let mut two: Vec<Catcher> = rocket_bearer::catchers();
    two.retain(|catcher| catcher.code != Some(400));
    assert!(aborted(
        rocket::build().mount("/", routes![user]).register("/", two)
    ));

    let registered = rocket::build()
        .mount("/", routes![named, user])
        .register("/", rocket_bearer::catchers());
    let client = Client::untracked(registered).expect("the catchers are registered");
    let response = get(
        &client,
        "/credentials",
        &[("Authorization", "Bearer s3cr3t")],
    );
    assert_eq!(response.into_string().as_deref(), Some("Bearer(Token(..))"));
}

#[catch(default)]
fn api_default(status: Status, _request: &Request<'_>) -> String {
    format!("api default {}", status.code)
}

#[test]
fn catchers_that_do_not_cover_a_guarded_route_stop_the_launch() {
    let aborted = |rocket: Rocket<Build>| match Client::untracked(rocket) {
        Err(error) => matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
        Ok(_) => false,
    };
    // Registered somewhere else than the route.
    assert!(aborted(
        rocket::build()
            .mount("/fail", routes![user])
            .register("/elsewhere", rocket_bearer::catchers())
    ));
    // A default catcher at a longer base wins over the library's in Rocket
    // 0.5.2, as in Rocket's own error-handling example.
    assert!(aborted(
        rocket::build()
            .mount("/api", routes![user])
            .register("/", rocket_bearer::catchers())
            .register("/api", catchers![api_default])
    ));
    // The same, with the library's catchers at that base too: launched,
    // and the refusal gets its challenge while other statuses stay the app's.
    let covered = rocket::build()
        .mount("/api", routes![user])
        .register("/", rocket_bearer::catchers())
        .register("/api", rocket_bearer::catchers())
        .register("/api", catchers![api_default]);
    let client = Client::untracked(covered).expect("the catchers cover /api");
    let refused = get(&client, "/api/user", &[]);
    assert_answer(
        refused,
        401,
        Some("Bearer"),
        JSON,
        r#"{"message":"Unauthorized"}"#,
    );
    let missing = get(&client, "/api/nowhere", &[]);
    assert_eq!(missing.into_string().as_deref(), Some("api default 404"));
}

/// Refuses with a 503, as a verifier does when no key can be had.
struct Unverifiable;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Unverifiable {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        Rejection::unavailable(7).reject(request)
    }
}

#[get("/unverifiable")]
fn unverifiable(_guard: Unverifiable) -> &'static str {
    "never"
}

#[test]
fn a_token_that_cannot_be_checked_now_is_a_503_with_retry_after_and_no_challenge() {
    let rocket = rocket::build()
        .mount("/", routes![unverifiable])
        .manage(Realm::from_static("api"))
        .register("/", rocket_bearer::catchers());
    let client = Client::untracked(rocket).expect("the app ignites");
    let response = get(&client, "/unverifiable", &[("Authorization", "Bearer x")]);
    assert_eq!(response.headers().get_one("Retry-After"), Some("7"));
    assert_answer(
        response,
        503,
        None,
        JSON,
        r#"{"message":"Service Unavailable"}"#,
    );
}
