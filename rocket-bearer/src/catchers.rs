//! The catchers that turn a recorded [`Rejection`] into its answer, the
//! opt-in JSON catcher for every other status, and the launch check that
//! they are registered.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Responder;
use rocket::{Catcher, Ignite, Rocket, catcher};

use crate::body::ErrorBody;
use crate::rejection::Rejection;

/// The statuses the library answers: RFC 6750's three, and the 503 of a
/// token that cannot be checked for now.
const CODES: [u16; 4] = [400, 401, 403, 503];

/// The library's catchers, for 400, 401, 403 and 503. Register them on
/// your rocket at `/`:
///
/// ```
/// use rocket_bearer::Realm;
///
/// let rocket = rocket::build()
///     .manage(Realm::from_static("my api"))
///     .register("/", rocket_bearer::catchers());
/// ```
///
/// Each answers with the reason recorded on the request ([`Rejection::record`])
/// when that reason's status is the status caught. Otherwise a 401 gets the
/// challenge without an error code (RFC 9110 §15.5.2 wants a challenge on
/// every 401), and a 400, 403 or 503 is handed to your app's own default
/// catcher for that path, unchanged, so your other 400s look as they did;
/// without one, it gets the library's JSON error, with no challenge.
///
/// A default catcher of yours registered at a longer base (`/api`) wins
/// over these in Rocket 0.5, so register them at that base too:
/// [`catchers_missing`] refuses the launch until you do.
///
/// They add no default catcher: [`default_catcher`] is a separate piece.
/// To keep a catcher of your own for one of the three statuses, leave the
/// library's out (`retain`) and call [`Rejection::caught`] from yours.
pub fn catchers() -> Vec<Catcher> {
    CODES
        .into_iter()
        .map(|code| {
            let mut catcher = Catcher::new(code, BearerCatcher);
            catcher.name = Some("rocket_bearer::catchers".into());
            catcher
        })
        .collect()
}

/// A catcher for every status the others leave, whose body is the JSON the
/// library's errors have: `{"message":"<reason phrase>"}`, or problem
/// details for a client that prefers them, with `Vary: Accept`. Opt in if
/// you want every error of your API to be JSON; Rocket's own default answers
/// HTML to most clients.
///
/// ```
/// let rocket = rocket::build()
///     .register("/", rocket_bearer::catchers())
///     .register("/", [rocket_bearer::default_catcher()]);
/// ```
pub fn default_catcher() -> Catcher {
    let mut catcher = Catcher::new(None, JsonCatcher);
    catcher.name = Some("rocket_bearer::default_catcher".into());
    catcher
}

/// `true`, after logging an error that names what is missing, when a
/// request to one of `rocket`'s routes could be refused with 400, 401, 403
/// or 503 and answered by a catcher that does not know the library's
/// reasons: no catcher for that status covers the route, or a default
/// catcher registered at a longer base wins over it (Rocket 0.5 prefers the
/// longer base to the status). Rocket checks the
/// [`Sentinel`](rocket::Sentinel)s of the types named in a route's
/// signature when the rocket ignites, and refuses to launch when one
/// aborts: call this from the `Sentinel` of your own guard, so that
/// forgetting the catchers fails at launch instead of answering Rocket's
/// HTML 401 without a challenge. ([`Credentials`](crate::Credentials) does
/// it already.)
///
/// ```
/// use rocket::{Ignite, Rocket, Sentinel};
///
/// struct User;
///
/// impl Sentinel for User {
///     fn abort(rocket: &Rocket<Ignite>) -> bool {
///         rocket_bearer::catchers_missing(rocket)
///     }
/// }
/// ```
///
/// Every route is checked, since a sentinel cannot tell which routes use
/// the guard: registering [`catchers`] at `/` covers them all, and changes
/// nothing for routes that never refuse. A catcher of your own for one of
/// the statuses counts (see [`Rejection::caught`]). A route's path is
/// checked up to its first dynamic segment.
pub fn catchers_missing(rocket: &Rocket<Ignite>) -> bool {
    let mut gaps: Vec<String> = Vec::new();
    for route in rocket.routes() {
        let path: Vec<&str> = route
            .uri
            .origin
            .path()
            .segments()
            .take_while(|segment| !segment.starts_with('<'))
            .collect();
        for code in CODES {
            let gap = match chosen_catcher(rocket, code, &path) {
                Some(catcher) if catcher.code == Some(code) => continue,
                Some(default) => format!(
                    "{code} at {} goes to the default catcher at {}: register rocket_bearer::catchers() at {} too",
                    route.uri, default.base, default.base
                ),
                None => format!(
                    "no catcher for {code} at {}: register rocket_bearer::catchers() at /",
                    route.uri
                ),
            };
            if !gaps.contains(&gap) {
                gaps.push(gap);
            }
        }
    }
    if let Some(first) = gaps.first() {
        let more = match gaps.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        rocket::error!("rocket_bearer: {first}{more}");
    }
    !gaps.is_empty()
}

/// The catcher Rocket 0.5.2 picks for `code` at `path` (`Router::catch`):
/// the status's catcher with the longest base that is a prefix of the path,
/// unless the default catcher with the longest such base has a longer one.
fn chosen_catcher<'a>(rocket: &'a Rocket<Ignite>, code: u16, path: &[&str]) -> Option<&'a Catcher> {
    let longest = |code: Option<u16>| {
        rocket
            .catchers()
            .filter(move |catcher| catcher.code == code)
            .filter(|catcher| {
                let base: Vec<&str> = catcher.base.path().segments().collect();
                base.len() <= path.len() && base.iter().zip(path).all(|(a, b)| a == b)
            })
            .max_by_key(|catcher| catcher.base.path().segments().len())
    };
    match (longest(Some(code)), longest(None)) {
        (Some(explicit), Some(default))
            if default.base.path().segments().len() > explicit.base.path().segments().len() =>
        {
            Some(default)
        }
        (Some(explicit), _) => Some(explicit),
        (None, default) => default,
    }
}

/// The catcher behind [`catchers`].
#[derive(Clone)]
struct BearerCatcher;

#[rocket::async_trait]
impl catcher::Handler for BearerCatcher {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        if let Some(rejection) = Rejection::caught(status, request) {
            return rejection.render(request);
        }
        match app_default_catcher(request) {
            Some(catcher) => catcher.handler.handle(status, request).await,
            None => ErrorBody::new(status, None, request).respond_to(request),
        }
    }
}

/// The catcher behind [`default_catcher`].
#[derive(Clone)]
struct JsonCatcher;

#[rocket::async_trait]
impl catcher::Handler for JsonCatcher {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        ErrorBody::new(status, None, request).respond_to(request)
    }
}

/// The default catcher Rocket would have chosen for `request` without the
/// library's: the one whose base is the longest prefix of the path.
fn app_default_catcher<'a>(request: &'a Request<'_>) -> Option<&'a Catcher> {
    request
        .rocket()
        .catchers()
        .filter(|catcher| catcher.code.is_none())
        .filter(|catcher| {
            let base = catcher.base.path().segments();
            base.prefix_of(request.uri().path().segments())
        })
        .max_by_key(|catcher| catcher.base.path().segments().len())
}
