//! The catchers that turn a recorded [`Rejection`] into its answer, the
//! opt-in JSON catcher for every other status, and the launch check that
//! they are registered.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Responder;
use rocket::{Catcher, Ignite, Rocket, catcher};

use crate::body::ErrorBody;
use crate::rejection::Rejection;

/// The statuses the library answers.
const CODES: [u16; 3] = [400, 401, 403];

/// The library's catchers, for 400, 401 and 403. Register them on your
/// rocket, at `/` or at the base of the routes whose guards use the
/// library:
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
/// every 401), and a 400 or 403 is handed to your app's own default catcher
/// for that path, unchanged, so your other 400s look as they did; without
/// one, it gets the library's JSON error, with no challenge.
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

/// `true`, after logging an error that names what is missing, when `rocket`
/// has no catcher for one of 400, 401 and 403. Rocket checks the
/// [`Sentinel`](rocket::Sentinel)s of the types named in a route's signature
/// when the rocket ignites, and refuses to launch when one aborts: call this
/// from the `Sentinel` of your own guard, so that forgetting the catchers
/// fails at launch instead of answering Rocket's HTML 401 without a
/// challenge. ([`Credentials`](crate::Credentials) does it already.)
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
/// Any catcher for the status counts, so that an app can keep its own
/// catcher for one of them (see [`Rejection::caught`]).
pub fn catchers_missing(rocket: &Rocket<Ignite>) -> bool {
    let missing: Vec<String> = CODES
        .into_iter()
        .filter(|&code| !rocket.catchers().any(|catcher| catcher.code == Some(code)))
        .map(|code| code.to_string())
        .collect();
    if !missing.is_empty() {
        rocket::error!(
            "rocket_bearer: no catcher for {}: register rocket_bearer::catchers(), e.g. .register(\"/\", rocket_bearer::catchers())",
            missing.join(", ")
        );
    }
    !missing.is_empty()
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
