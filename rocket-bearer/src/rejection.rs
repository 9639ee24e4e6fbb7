//! Why a request is refused: the guard's typed reason, the record that
//! carries it past Rocket to the catcher, and the response it calls for.
//!
//! Rocket 0.5 drops a guard's error before the catcher runs: a catcher sees
//! only the status and the request. So a reason is also recorded on the
//! request ([`Rejection::record`]), in a cell inside `Request::local_cache`
//! (which is set once per request), and the catcher reads it back.

use std::sync::Mutex;

use rocket::http::Status;
use rocket::request::{Outcome, Request};
use rocket::response::{self, Responder, Response};

use crate::body::ErrorBody;
use crate::challenge::{Challenge, Description, ErrorUri, Realm, Scope};

/// Why a request is refused, as RFC 6750 §3.1 names it: each reason has its
/// status and its `WWW-Authenticate` challenge.
///
/// | reason | status | challenge (realm `api`) |
/// | --- | --- | --- |
/// | [`MissingCredentials`](Rejection::MissingCredentials) | 401 | `Bearer realm="api"` |
/// | [`InvalidRequest`](Rejection::InvalidRequest) | 400 | `Bearer realm="api", error="invalid_request"` |
/// | [`InvalidToken`](Rejection::InvalidToken) | 401 | `Bearer realm="api", error="invalid_token"` |
/// | [`InsufficientScope`](Rejection::InsufficientScope) | 403 | `Bearer realm="api", error="insufficient_scope", scope="…"` |
///
/// A guard refuses with [`reject`](Rejection::reject); a guard with an error
/// type of its own calls [`record`](Rejection::record) and returns its own
/// outcome with the same status; a handler may return a `Rejection`, which
/// is a [`Responder`]. A reason holds no token, so its `Debug` cannot print
/// one.
///
/// ```
/// use rocket_bearer::{Description, Rejection, Scope};
/// use rocket::http::Status;
///
/// const EXPIRED: Description = Description::from_static("the token has expired");
///
/// let expired = Rejection::invalid_token().with_description(EXPIRED);
/// assert_eq!(expired.status(), Status::Unauthorized);
/// assert_eq!(expired.error_code(), Some("invalid_token"));
///
/// let not_admin = Rejection::insufficient_scope(Scope::from_static("admin"));
/// assert_eq!(not_admin.status(), Status::Forbidden);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No Bearer credentials: no `Authorization`, or another scheme. 401
    /// with no error code and no other error information (RFC 6750 §3.1).
    MissingCredentials,
    /// A malformed request: a repeated `Authorization`, `Bearer` with no
    /// token, a token that is not a b64token, a missing parameter. 400,
    /// `error="invalid_request"`.
    InvalidRequest(Details),
    /// A token that is expired, revoked, malformed or forged. 401,
    /// `error="invalid_token"`.
    InvalidToken(Details),
    /// A valid token without the scope the resource needs. 403,
    /// `error="insufficient_scope"` and `scope="…"`.
    InsufficientScope(Scope, Details),
}

/// What a reason may add to its error code: `error_description` and
/// `error_uri` (RFC 6750 §3).
///
/// ```
/// use rocket_bearer::{Description, Details, Rejection};
///
/// let details = Details {
///     description: Some(Description::from_static("no token after Bearer")),
///     uri: None,
/// };
/// assert_eq!(
///     Rejection::InvalidRequest(details),
///     Rejection::invalid_request().with_description(Description::from_static("no token after Bearer"))
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// `error_description`, also the `detail` of problem details.
    pub description: Option<Description>,
    /// `error_uri`.
    pub uri: Option<ErrorUri>,
}

impl Rejection {
    /// `invalid_request` (400) without description or URI.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::invalid_request().error_code(), Some("invalid_request"));
    /// ```
    pub fn invalid_request() -> Rejection {
        Rejection::InvalidRequest(Details::default())
    }

    /// `invalid_token` (401) without description or URI.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::invalid_token().error_code(), Some("invalid_token"));
    /// ```
    pub fn invalid_token() -> Rejection {
        Rejection::InvalidToken(Details::default())
    }

    /// `insufficient_scope` (403) for a resource that needs `scope`.
    ///
    /// ```
    /// # use rocket_bearer::{Rejection, Scope};
    /// let rejection = Rejection::insufficient_scope(Scope::from_static("admin"));
    /// assert_eq!(rejection.error_code(), Some("insufficient_scope"));
    /// ```
    pub fn insufficient_scope(scope: Scope) -> Rejection {
        Rejection::InsufficientScope(scope, Details::default())
    }

    /// The same reason with an `error_description`. Missing credentials carry
    /// no error information (RFC 6750 §3.1), so they stay as they are.
    ///
    /// ```
    /// # use rocket_bearer::{Description, Rejection};
    /// let rejection = Rejection::invalid_token()
    ///     .with_description(Description::from_static("the token has expired"));
    /// let missing = Rejection::MissingCredentials
    ///     .with_description(Description::from_static("ignored"));
    /// assert_eq!(missing, Rejection::MissingCredentials);
    /// ```
    pub fn with_description(mut self, description: Description) -> Rejection {
        if let Some(details) = self.details_mut() {
            details.description = Some(description);
        }
        self
    }

    /// The same reason with an `error_uri`; missing credentials stay as they
    /// are, as for [`with_description`](Rejection::with_description).
    ///
    /// ```
    /// # use rocket_bearer::{ErrorUri, Rejection};
    /// let rejection = Rejection::invalid_token()
    ///     .with_uri(ErrorUri::from_static("https://example.com/errors/token"));
    /// ```
    pub fn with_uri(mut self, uri: ErrorUri) -> Rejection {
        if let Some(details) = self.details_mut() {
            details.uri = Some(uri);
        }
        self
    }

    fn details_mut(&mut self) -> Option<&mut Details> {
        match self {
            Rejection::MissingCredentials => None,
            Rejection::InvalidRequest(details)
            | Rejection::InvalidToken(details)
            | Rejection::InsufficientScope(_, details) => Some(details),
        }
    }

    /// The `error_description`, if the reason has one.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::invalid_token().description(), None);
    /// ```
    pub fn description(&self) -> Option<&Description> {
        match self {
            Rejection::MissingCredentials => None,
            Rejection::InvalidRequest(details)
            | Rejection::InvalidToken(details)
            | Rejection::InsufficientScope(_, details) => details.description.as_ref(),
        }
    }

    /// The status this reason is answered with: 400, 401 or 403.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// # use rocket::http::Status;
    /// assert_eq!(Rejection::invalid_request().status(), Status::BadRequest);
    /// ```
    pub fn status(&self) -> Status {
        match self {
            Rejection::InvalidRequest(_) => Status::BadRequest,
            Rejection::MissingCredentials | Rejection::InvalidToken(_) => Status::Unauthorized,
            Rejection::InsufficientScope(..) => Status::Forbidden,
        }
    }

    /// The `error` parameter of the challenge; `None` for missing
    /// credentials, which have none. Logs and metrics can name reasons by it.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::MissingCredentials.error_code(), None);
    /// ```
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Rejection::MissingCredentials => None,
            Rejection::InvalidRequest(_) => Some("invalid_request"),
            Rejection::InvalidToken(_) => Some("invalid_token"),
            Rejection::InsufficientScope(..) => Some("insufficient_scope"),
        }
    }

    /// Records this reason on `request` for the catcher of its status,
    /// replacing any reason recorded before. Call it from a guard whose error
    /// type is its own, then return that guard's `Outcome::Error` with
    /// [`status`](Rejection::status):
    ///
    /// ```
    /// use rocket::http::Status;
    /// use rocket::request::{FromRequest, Outcome, Request};
    /// use rocket_bearer::Rejection;
    ///
    /// struct Admin;
    ///
    /// #[derive(Debug)]
    /// enum AdminError {
    ///     NotSignedIn,
    /// }
    ///
    /// #[rocket::async_trait]
    /// impl<'r> FromRequest<'r> for Admin {
    ///     type Error = AdminError;
    ///
    ///     async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AdminError> {
    ///         let rejection = Rejection::MissingCredentials;
    ///         rejection.record(request);
    ///         Outcome::Error((rejection.status(), AdminError::NotSignedIn))
    ///     }
    /// }
    /// ```
    ///
    /// The newest record wins: a guard taken as `Option<_>` that refused
    /// earlier cannot shadow a guard that really failed and recorded its
    /// reason. A record lasts for the whole request, so a later failure of
    /// the same status that records nothing (a data guard's 400, a handler's
    /// 401) is answered with it.
    pub fn record(&self, request: &Request<'_>) {
        let cell = request.local_cache(Record::default);
        *cell
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(self.clone());
    }

    /// Records this reason on `request` and returns the outcome that refuses
    /// the request with its status: what a guard whose error type is
    /// `Rejection` returns.
    ///
    /// ```
    /// use rocket::request::{FromRequest, Outcome, Request};
    /// use rocket_bearer::{Credentials, Rejection};
    ///
    /// /// A request with the one token this app knows: add this parameter to
    /// /// a handler to require it.
    /// struct Admin;
    ///
    /// #[rocket::async_trait]
    /// impl<'r> FromRequest<'r> for Admin {
    ///     type Error = Rejection;
    ///
    ///     async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
    ///         match Credentials::read(request) {
    ///             Credentials::Bearer(token) if token.as_str() == "let-me-in" => {
    ///                 Outcome::Success(Admin)
    ///             }
    ///             Credentials::Bearer(_) => Rejection::invalid_token().reject(request),
    ///             Credentials::Malformed(_) => Rejection::invalid_request().reject(request),
    ///             _ => Rejection::MissingCredentials.reject(request),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn reject<T>(self, request: &Request<'_>) -> Outcome<T, Rejection> {
        self.record(request);
        Outcome::Error((self.status(), self))
    }

    /// The reason last recorded on `request`, if any: for a request log or
    /// metrics, say, in a response fairing.
    ///
    /// ```
    /// use rocket::local::blocking::Client;
    /// use rocket_bearer::Rejection;
    ///
    /// let client = Client::untracked(rocket::build()).unwrap();
    /// let request = client.get("/");
    /// assert_eq!(Rejection::recorded(&request), None);
    /// Rejection::invalid_token().record(&request);
    /// assert_eq!(Rejection::recorded(&request), Some(Rejection::invalid_token()));
    /// ```
    pub fn recorded(request: &Request<'_>) -> Option<Rejection> {
        let cell = request.local_cache(Record::default);
        let record = cell
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        record.clone()
    }

    /// What a catcher for `status` answers `request` with: the recorded
    /// reason when its status is `status`; missing credentials for a 401
    /// that no reason explains (RFC 9110 §15.5.2 wants a challenge on every
    /// 401); otherwise `None`. For an app that keeps a catcher of its own for
    /// one of these statuses:
    ///
    /// ```
    /// use rocket::http::Status;
    /// use rocket::request::Request;
    /// use rocket::{catch, catchers};
    /// use rocket_bearer::Rejection;
    ///
    /// #[catch(403)]
    /// fn forbidden(request: &Request<'_>) -> Result<Rejection, &'static str> {
    ///     // Your own 403 when no guard's reason explains it.
    ///     Rejection::caught(Status::Forbidden, request).ok_or("forbidden")
    /// }
    ///
    /// let mut bearer = rocket_bearer::catchers();
    /// bearer.retain(|catcher| catcher.code != Some(403));
    /// let rocket = rocket::build().register("/", bearer).register("/", catchers![forbidden]);
    /// ```
    pub fn caught(status: Status, request: &Request<'_>) -> Option<Rejection> {
        match Rejection::recorded(request) {
            Some(rejection) if rejection.status() == status => Some(rejection),
            _ if status == Status::Unauthorized => Some(Rejection::MissingCredentials),
            _ => None,
        }
    }

    /// The response: this reason's status, its challenge for the realm the
    /// rocket manages (none if it manages no [`Realm`]), and the negotiated
    /// JSON body.
    pub(crate) fn render(&self, request: &Request<'_>) -> response::Result<'static> {
        let realm = request.rocket().state::<Realm>();
        let status = self.status();
        let body = ErrorBody::new(status, self.description(), request).respond_to(request)?;
        Response::build_from(body)
            .status(status)
            .header(Challenge::new(realm, self))
            .ok()
    }
}

/// A handler may return a `Rejection`: the response carries its status, its
/// challenge and the JSON body, and the reason is recorded for logs and
/// metrics.
///
/// ```
/// use rocket::get;
/// use rocket_bearer::{Rejection, Scope};
///
/// #[get("/reports")]
/// fn reports() -> Result<&'static str, Rejection> {
///     Err(Rejection::insufficient_scope(Scope::from_static("reports")))
/// }
/// ```
impl<'r> Responder<'r, 'static> for Rejection {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let response = self.render(request);
        self.record(request);
        response
    }
}

/// The request-local cell that holds the newest reason.
#[derive(Default)]
struct Record(Mutex<Option<Rejection>>);
