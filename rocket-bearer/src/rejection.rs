//! Why a request is refused: the guard's typed reason, the record that
//! carries it past Rocket to the catcher, and the response it calls for.
//!
//! Rocket 0.5 drops a guard's error before the catcher runs: a catcher sees
//! only the status and the request. So a reason is also recorded on the
//! request ([`Rejection::record`]), in a cell inside `Request::local_cache`
//! (which is set once per request), and the catcher reads it back.

use std::sync::Mutex;

use rocket::http::{Header, Status};
use rocket::request::{Outcome, Request};
use rocket::response::{self, Responder, Response};

use crate::body::ErrorBody;
use crate::challenge::{AcrValues, Challenge, Description, ErrorUri, Realm, Schemes, Scope};
use crate::metadata::ResourceMetadata;

/// Why a request is refused: each reason has its status, and its
/// `WWW-Authenticate` challenge (RFC 6750 §3).
///
/// | made by | status | challenge (realm `api`) |
/// | --- | --- | --- |
/// | [`missing_credentials()`](Rejection::missing_credentials) | 401 | `Bearer realm="api"` |
/// | [`invalid_request()`](Rejection::invalid_request) | 400 | `Bearer realm="api", error="invalid_request"` |
/// | [`invalid_token()`](Rejection::invalid_token) | 401 | `Bearer realm="api", error="invalid_token"` |
/// | [`insufficient_scope(scope)`](Rejection::insufficient_scope) | 403 | `Bearer realm="api", error="insufficient_scope", scope="…"` |
/// | [`insufficient_user_authentication(acr_values, max_age)`](Rejection::insufficient_user_authentication) | 401 | `Bearer realm="api", error="insufficient_user_authentication", acr_values="…", max_age="…"` |
/// | [`unavailable(seconds)`](Rejection::unavailable) | 503 | none; `Retry-After` instead |
///
/// The three reasons with an error code are a [`BearerError`] first, which
/// can take an `error_description` and an `error_uri`; missing credentials
/// carry no error information (RFC 6750 §3.1), so the type does not offer
/// it.
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
/// const ADMIN: Scope = Scope::from_static("admin");
///
/// let expired = Rejection::from(Rejection::invalid_token().with_description(EXPIRED));
/// assert_eq!(expired.status(), Status::Unauthorized);
/// assert_eq!(expired.error_code(), Some("invalid_token"));
///
/// let not_admin = Rejection::from(Rejection::insufficient_scope(ADMIN));
/// assert_eq!(not_admin.status(), Status::Forbidden);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
    /// The scope the resource requires, named in any challenge.
    required_scope: Option<Scope>,
    /// Bearer alone, unless the verifier offers DPoP too.
    schemes: Schemes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    MissingCredentials,
    Error(BearerError),
    Unavailable { retry_after: u32 },
}

/// A reason with an RFC 6750 §3.1 error code, made by
/// [`Rejection::invalid_request`], [`Rejection::invalid_token`] or
/// [`Rejection::insufficient_scope`]: it can add an `error_description` and
/// an `error_uri`, then becomes a [`Rejection`] (`.into()`, or
/// [`reject`](BearerError::reject)). Like a `Rejection`, it is a
/// [`Responder`] a handler may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerError {
    code: ErrorCode,
    description: Option<Description>,
    uri: Option<ErrorUri>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorCode {
    InvalidRequest,
    InvalidToken,
    InsufficientScope(Scope),
    /// RFC 9470 §3: what the token's authentication falls short of
    /// (boxed: a rejection travels in every guard's `Result`).
    InsufficientUserAuthentication(Box<(Option<AcrValues>, Option<u64>)>),
    /// RFC 9449 §7.1: the DPoP proof is missing or fails a check of §4.3.
    #[cfg_attr(not(feature = "verify"), allow(dead_code))]
    InvalidDpopProof,
    /// RFC 9449 §8, §9: the proof must carry the nonce the answer gives.
    #[cfg_attr(not(feature = "verify"), allow(dead_code))]
    UseDpopNonce,
}

impl BearerError {
    fn new(code: ErrorCode) -> BearerError {
        BearerError {
            code,
            description: None,
            uri: None,
        }
    }

    /// The same error with an `error_description`, which problem details
    /// also carry as `detail`.
    ///
    /// ```
    /// # use rocket_bearer::{Description, Rejection};
    /// const EXPIRED: Description = Description::from_static("the token has expired");
    /// let rejection = Rejection::from(Rejection::invalid_token().with_description(EXPIRED));
    /// assert_eq!(rejection.description(), Some(&EXPIRED));
    /// ```
    pub fn with_description(mut self, description: Description) -> BearerError {
        self.description = Some(description);
        self
    }

    /// The same error with an `error_uri`.
    ///
    /// ```
    /// # use rocket_bearer::{ErrorUri, Rejection};
    /// const HELP: ErrorUri = ErrorUri::from_static("https://example.com/errors/token");
    /// let rejection = Rejection::invalid_token().with_uri(HELP);
    /// ```
    pub fn with_uri(mut self, uri: ErrorUri) -> BearerError {
        self.uri = Some(uri);
        self
    }

    /// Records this error on `request` and returns the outcome that refuses
    /// it: [`Rejection::reject`].
    pub fn reject<T>(self, request: &Request<'_>) -> Outcome<T, Rejection> {
        Rejection::from(self).reject(request)
    }
}

impl From<BearerError> for Rejection {
    fn from(error: BearerError) -> Rejection {
        Rejection::of(Reason::Error(error))
    }
}

impl Rejection {
    /// No Bearer credentials: no `Authorization`, or another scheme. 401
    /// with no error code and no other error information (RFC 6750 §3.1).
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::missing_credentials().error_code(), None);
    /// ```
    pub const fn missing_credentials() -> Rejection {
        Rejection::of(Reason::MissingCredentials)
    }

    const fn of(reason: Reason) -> Rejection {
        Rejection {
            reason,
            required_scope: None,
            schemes: Schemes::BEARER,
        }
    }

    /// The same reason, its challenge naming the scope the resource
    /// requires (`scope`, RFC 6750 §3), so that a client asks for that
    /// scope and no more: the MCP authorization specification (2025-11-25)
    /// asks it of a 401. An `insufficient_scope` names its own scope; a 503
    /// has no challenge.
    ///
    /// ```
    /// # use rocket_bearer::{Rejection, Scope};
    /// const ADMIN: Scope = Scope::from_static("admin");
    /// let rejection = Rejection::missing_credentials().with_required_scope(ADMIN);
    /// assert_eq!(rejection.scope(), Some(&ADMIN));
    /// assert_eq!(rejection.error_code(), None);
    /// ```
    pub fn with_required_scope(mut self, scope: Scope) -> Rejection {
        self.required_scope = Some(scope);
        self
    }

    /// A malformed request: a repeated `Authorization`, `Bearer` with no
    /// token, a token that is not a b64token, a missing parameter. 400,
    /// `error="invalid_request"`.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// let rejection = Rejection::from(Rejection::invalid_request());
    /// assert_eq!(rejection.error_code(), Some("invalid_request"));
    /// ```
    pub fn invalid_request() -> BearerError {
        BearerError::new(ErrorCode::InvalidRequest)
    }

    /// A token that is expired, revoked, malformed or forged. 401,
    /// `error="invalid_token"`.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// let rejection = Rejection::from(Rejection::invalid_token());
    /// assert_eq!(rejection.error_code(), Some("invalid_token"));
    /// ```
    pub fn invalid_token() -> BearerError {
        BearerError::new(ErrorCode::InvalidToken)
    }

    /// A valid token without the scope the resource needs. 403,
    /// `error="insufficient_scope"` and `scope="…"`.
    ///
    /// ```
    /// # use rocket_bearer::{Rejection, Scope};
    /// const ADMIN: Scope = Scope::from_static("admin");
    /// let rejection = Rejection::from(Rejection::insufficient_scope(ADMIN));
    /// assert_eq!(rejection.scope(), Some(&ADMIN));
    /// ```
    pub fn insufficient_scope(scope: Scope) -> BearerError {
        BearerError::new(ErrorCode::InsufficientScope(scope))
    }

    /// A valid token whose user authenticated too weakly or too long ago
    /// for the resource (step-up, RFC 9470 §3): 401,
    /// `error="insufficient_user_authentication"`, with the authentication
    /// context classes the resource accepts (`acr_values`) and the most
    /// seconds since the user authenticated (`max_age`), so that the client
    /// asks the authorization server for a new login that meets them.
    ///
    /// ```
    /// # use rocket_bearer::{AcrValues, Rejection};
    /// # use rocket::http::Status;
    /// const MFA: AcrValues = AcrValues::from_static("mfa");
    /// let rejection = Rejection::from(Rejection::insufficient_user_authentication(Some(MFA), Some(300)));
    /// assert_eq!(rejection.status(), Status::Unauthorized);
    /// assert_eq!(rejection.error_code(), Some("insufficient_user_authentication"));
    /// ```
    pub fn insufficient_user_authentication(
        acr_values: Option<AcrValues>,
        max_age: Option<u64>,
    ) -> BearerError {
        BearerError::new(ErrorCode::InsufficientUserAuthentication(Box::new((
            acr_values, max_age,
        ))))
    }

    /// A DPoP proof that is missing or fails a check (RFC 9449 §7.1): 401,
    /// `error="invalid_dpop_proof"`, on the DPoP challenge.
    #[cfg(feature = "verify")]
    pub(crate) fn invalid_dpop_proof() -> BearerError {
        BearerError::new(ErrorCode::InvalidDpopProof)
    }

    /// A DPoP proof without the nonce the resource requires, or with one no
    /// longer accepted (RFC 9449 §9): 401, `error="use_dpop_nonce"`; the
    /// answer carries the nonce to use in `DPoP-Nonce`.
    #[cfg(feature = "verify")]
    pub(crate) fn use_dpop_nonce() -> BearerError {
        BearerError::new(ErrorCode::UseDpopNonce)
    }

    /// The token cannot be checked now, through no fault of the client: the
    /// keys that would verify it cannot be had. 503 with `Retry-After:
    /// <seconds>` (RFC 9110 §10.2.3) and no challenge, since the token may
    /// well be good.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// # use rocket::http::Status;
    /// assert_eq!(Rejection::unavailable(5).status(), Status::ServiceUnavailable);
    /// ```
    pub const fn unavailable(retry_after: u32) -> Rejection {
        Rejection::of(Reason::Unavailable { retry_after })
    }

    fn error(&self) -> Option<&BearerError> {
        match &self.reason {
            Reason::Error(error) => Some(error),
            Reason::MissingCredentials | Reason::Unavailable { .. } => None,
        }
    }

    /// The `error_description`, if the reason has one.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::missing_credentials().description(), None);
    /// ```
    pub fn description(&self) -> Option<&Description> {
        self.error()?.description.as_ref()
    }

    /// The `error_uri`, if the reason has one.
    pub fn uri(&self) -> Option<&ErrorUri> {
        self.error()?.uri.as_ref()
    }

    /// The scope the challenge names: the one an `insufficient_scope`
    /// asks for, or the one [`with_required_scope`](Rejection::with_required_scope) gave.
    pub fn scope(&self) -> Option<&Scope> {
        match self.error().map(|error| &error.code) {
            Some(ErrorCode::InsufficientScope(scope)) => Some(scope),
            _ => self.required_scope.as_ref(),
        }
    }

    /// The scope the resource requires, named in a challenge without error.
    pub(crate) fn required_scope(&self) -> Option<&Scope> {
        self.required_scope.as_ref()
    }

    /// The `acr_values` of an `insufficient_user_authentication`.
    pub fn acr_values(&self) -> Option<&AcrValues> {
        match &self.error()?.code {
            ErrorCode::InsufficientUserAuthentication(step_up) => step_up.0.as_ref(),
            _ => None,
        }
    }

    /// The `max_age` of an `insufficient_user_authentication`, in seconds.
    pub fn max_age(&self) -> Option<u64> {
        match &self.error()?.code {
            ErrorCode::InsufficientUserAuthentication(step_up) => step_up.1,
            _ => None,
        }
    }

    /// The schemes this reason's challenge offers.
    pub(crate) fn schemes(&self) -> &Schemes {
        &self.schemes
    }

    /// The same reason, challenged with `schemes`.
    #[cfg(feature = "verify")]
    pub(crate) fn with_schemes(mut self, schemes: Schemes) -> Rejection {
        self.schemes = schemes;
        self
    }

    /// The status this reason is answered with: 400, 401, 403 or 503.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// # use rocket::http::Status;
    /// assert_eq!(Rejection::from(Rejection::invalid_request()).status(), Status::BadRequest);
    /// ```
    pub fn status(&self) -> Status {
        match &self.reason {
            Reason::MissingCredentials => Status::Unauthorized,
            Reason::Unavailable { .. } => Status::ServiceUnavailable,
            Reason::Error(error) => match error.code {
                ErrorCode::InvalidRequest => Status::BadRequest,
                ErrorCode::InvalidToken
                | ErrorCode::InsufficientUserAuthentication(_)
                | ErrorCode::InvalidDpopProof
                | ErrorCode::UseDpopNonce => Status::Unauthorized,
                ErrorCode::InsufficientScope(_) => Status::Forbidden,
            },
        }
    }

    /// The `error` parameter of the challenge; `None` for missing
    /// credentials and for a 503, which have none. Logs and metrics can name
    /// reasons by it.
    ///
    /// ```
    /// # use rocket_bearer::Rejection;
    /// assert_eq!(Rejection::missing_credentials().error_code(), None);
    /// ```
    pub fn error_code(&self) -> Option<&'static str> {
        Some(match self.error()?.code {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope(_) => "insufficient_scope",
            ErrorCode::InsufficientUserAuthentication(_) => "insufficient_user_authentication",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
        })
    }

    /// The seconds a 503 asks the client to wait before it tries again.
    pub fn retry_after(&self) -> Option<u32> {
        match self.reason {
            Reason::Unavailable { retry_after } => Some(retry_after),
            Reason::MissingCredentials | Reason::Error(_) => None,
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
    ///         let rejection = Rejection::missing_credentials();
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
    /// /// A request from the one client this app knows: add this parameter
    /// /// to a handler to require it.
    /// struct Admin;
    ///
    /// #[rocket::async_trait]
    /// impl<'r> FromRequest<'r> for Admin {
    ///     type Error = Rejection;
    ///
    ///     async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
    ///         let token = match Credentials::require(request) {
    ///             Ok(token) => token,
    ///             Err(rejection) => return rejection.reject(request),
    ///         };
    ///         // A real guard verifies the token (see the `verify` feature).
    ///         match token.as_str() {
    ///             "let-me-in" => Outcome::Success(Admin),
    ///             _ => Rejection::invalid_token().reject(request),
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
    /// Rejection::missing_credentials().record(&request);
    /// assert_eq!(Rejection::recorded(&request), Some(Rejection::missing_credentials()));
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
            _ if status == Status::Unauthorized => Some(Rejection::missing_credentials()),
            _ => None,
        }
    }

    /// The response: this reason's status, its challenge for the realm and
    /// the resource metadata the rocket manages (RFC 9728 §5.1), or
    /// `Retry-After` for a 503, and the negotiated JSON body.
    pub(crate) fn render(&self, request: &Request<'_>) -> response::Result<'static> {
        let status = self.status();
        let body = ErrorBody::new(status, self.description(), request).respond_to(request)?;
        let mut response = Response::build_from(body);
        response.status(status);
        match self.retry_after() {
            Some(seconds) => response.header(Header::new("Retry-After", seconds.to_string())),
            None => {
                let rocket = request.rocket();
                let realm = rocket.state::<Realm>();
                let metadata = rocket
                    .state::<ResourceMetadata>()
                    .map(ResourceMetadata::url);
                response.header(Challenge::new(realm, metadata, self))
            }
        };
        response.ok()
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
/// const REPORTS: Scope = Scope::from_static("reports");
///
/// #[get("/reports")]
/// fn reports() -> Result<&'static str, Rejection> {
///     Err(Rejection::insufficient_scope(REPORTS).into())
/// }
/// ```
impl<'r> Responder<'r, 'static> for Rejection {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let response = self.render(request);
        self.record(request);
        response
    }
}

/// The same as the [`Rejection`] it becomes.
impl<'r> Responder<'r, 'static> for BearerError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        Rejection::from(self).respond_to(request)
    }
}

/// The request-local cell that holds the newest reason.
#[derive(Default)]
struct Record(Mutex<Option<Rejection>>);
