//! Reading Bearer credentials from `Authorization` (RFC 6750 §2.1), and the
//! guard that does it for a route.

use std::convert::Infallible;
use std::fmt;

use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::catchers::catchers_missing;
use crate::challenge::Description;
use crate::rejection::{BearerError, Rejection};

/// What a request's `Authorization` header holds, read for the Bearer
/// scheme. Reading never fails: a malformed header is an answer of its own,
/// and your guard decides what it means. Most guards want
/// [`Credentials::require`], which gives the token or the reason to refuse.
///
/// As a request guard it always succeeds. Name it in a route, and the rocket
/// refuses to launch without the library's catchers (see [`catchers`]); a
/// guard of your own that calls [`Credentials::read`] can do the same from
/// its own `Sentinel` with [`catchers_missing`].
///
/// ```
/// use rocket::get;
/// use rocket_bearer::{Credentials, Rejection};
///
/// #[get("/me")]
/// fn me(credentials: Credentials<'_>) -> Result<&'static str, Rejection> {
///     match credentials {
///         // Real tokens are verified (the `verify` feature), never compared.
///         Credentials::Bearer(token) if token.as_str() == "let-me-in" => Ok("you"),
///         Credentials::Bearer(_) => Err(Rejection::invalid_token().into()),
///         Credentials::Malformed(malformed) => Err(malformed.rejection().into()),
///         Credentials::Missing | Credentials::OtherScheme => {
///             Err(Rejection::missing_credentials())
///         }
///     }
/// }
/// ```
///
/// The enum is exhaustive on purpose: a refusal is a security decision, and
/// a new kind of credentials in a later version must fail to compile in your
/// `match` rather than fall into a catch-all arm. Its `Debug` never prints
/// the token.
///
/// [`catchers`]: crate::catchers
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'r> {
    /// No `Authorization` header, or an empty one.
    Missing,
    /// Another scheme, such as `Basic`. Not Bearer credentials, so RFC 6750
    /// §3.1 answers it as missing ones. It holds nothing of the header, which
    /// may be a secret of another kind.
    OtherScheme,
    /// `Bearer` and a b64token (RFC 6750 §2.1). The scheme is matched
    /// case-insensitively (RFC 9110 §11.1): `bearer abc` counts.
    Bearer(Token<'r>),
    /// Bearer credentials that break RFC 6750 §2.1, or several
    /// `Authorization` headers.
    Malformed(Malformed),
}

/// How an `Authorization` header breaks RFC 6750 §2.1. Each kind is an
/// `invalid_request` (400) whose description says how:
/// [`rejection`](Malformed::rejection).
///
/// ```
/// use rocket_bearer::{Credentials, Malformed, Rejection};
///
/// let Credentials::Malformed(malformed) = Credentials::parse("Bearer") else { unreachable!() };
/// assert_eq!(malformed, Malformed::NoToken);
/// let rejection = Rejection::from(malformed.rejection());
/// assert_eq!(rejection.error_code(), Some("invalid_request"));
/// assert_eq!(rejection.description().unwrap().as_str(), "no token after Bearer");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// More than one `Authorization` header: which one counts is
    /// ambiguous, so none does.
    Repeated,
    /// `Bearer` with nothing after it.
    NoToken,
    /// What follows `Bearer` is not a b64token: a character outside
    /// `A-Z a-z 0-9 - . _ ~ + /`, a `=` before the end, or several words.
    NotB64Token,
}

const REPEATED: Description =
    Description::from_static("send one Authorization header, not several");
const NO_TOKEN: Description = Description::from_static("no token after Bearer");
const NOT_B64TOKEN: Description =
    Description::from_static("the token is not a b64token of RFC 6750 section 2.1");

impl Malformed {
    /// The `invalid_request` that answers this kind, with a description
    /// that says how the header is malformed (never what it holds).
    pub fn rejection(self) -> BearerError {
        let description = match self {
            Malformed::Repeated => REPEATED,
            Malformed::NoToken => NO_TOKEN,
            Malformed::NotB64Token => NOT_B64TOKEN,
        };
        Rejection::invalid_request().with_description(description)
    }
}

/// A Bearer token, as the request sent it. `Debug` shows `Token(..)`: print
/// it only on purpose, with [`as_str`](Token::as_str).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Token<'r>(&'r str);

impl<'r> Token<'r> {
    /// The token's text, to verify.
    ///
    /// ```
    /// use rocket_bearer::Credentials;
    ///
    /// let Credentials::Bearer(token) = Credentials::parse("Bearer abc.def") else {
    ///     unreachable!()
    /// };
    /// assert_eq!(token.as_str(), "abc.def");
    /// assert_eq!(format!("{token:?}"), "Token(..)");
    /// ```
    pub fn as_str(&self) -> &'r str {
        self.0
    }
}

impl fmt::Debug for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

impl<'r> Credentials<'r> {
    /// The request's Bearer token, or the reason to refuse the request:
    /// missing credentials (401) for no `Authorization` or another scheme,
    /// [`Malformed::rejection`] (400) for a malformed one. What a guard
    /// calls first, before it verifies the token.
    ///
    /// ```
    /// use rocket::http::Header;
    /// use rocket::local::blocking::Client;
    /// use rocket_bearer::{Credentials, Rejection};
    ///
    /// let client = Client::untracked(rocket::build()).unwrap();
    /// let request = client.get("/").header(Header::new("Authorization", "Basic YTpi"));
    /// assert_eq!(Credentials::require(&request).unwrap_err(), Rejection::missing_credentials());
    /// let request = client.get("/").header(Header::new("Authorization", "Bearer abc"));
    /// assert_eq!(Credentials::require(&request).unwrap().as_str(), "abc");
    /// ```
    pub fn require(request: &'r Request<'_>) -> Result<Token<'r>, Rejection> {
        match Credentials::read(request) {
            Credentials::Bearer(token) => Ok(token),
            Credentials::Malformed(malformed) => Err(malformed.rejection().into()),
            Credentials::Missing | Credentials::OtherScheme => {
                Err(Rejection::missing_credentials())
            }
        }
    }

    /// Reads the request's `Authorization` headers: none is
    /// [`Missing`](Credentials::Missing), several are
    /// [`Malformed::Repeated`], one is [`parse`](Credentials::parse)d.
    ///
    /// ```
    /// use rocket::http::Header;
    /// use rocket::local::blocking::Client;
    /// use rocket_bearer::{Credentials, Malformed};
    ///
    /// let client = Client::untracked(rocket::build()).unwrap();
    /// let request = client
    ///     .get("/")
    ///     .header(Header::new("Authorization", "Bearer a"))
    ///     .header(Header::new("Authorization", "Bearer b"));
    /// assert_eq!(
    ///     Credentials::read(&request),
    ///     Credentials::Malformed(Malformed::Repeated)
    /// );
    /// ```
    pub fn read(request: &'r Request<'_>) -> Credentials<'r> {
        let mut values = request.headers().get("Authorization");
        match (values.next(), values.next()) {
            (None, _) => Credentials::Missing,
            (Some(value), None) => Credentials::parse(value),
            (Some(_), Some(_)) => Credentials::Malformed(Malformed::Repeated),
        }
    }

    /// Reads one `Authorization` value: the scheme is the text up to its
    /// first space, then spaces, then the token (RFC 9110 §11.4). The value
    /// is taken as the server received it: the HTTP parser has already
    /// removed the whitespace around it (RFC 9110 §5.5), so any left over is
    /// part of the value.
    ///
    /// ```
    /// use rocket_bearer::{Credentials, Malformed};
    ///
    /// assert!(matches!(Credentials::parse("bearer abc"), Credentials::Bearer(_)));
    /// assert_eq!(Credentials::parse(""), Credentials::Missing);
    /// assert_eq!(Credentials::parse("Basic YTpi"), Credentials::OtherScheme);
    /// assert_eq!(Credentials::parse("Bearer"), Credentials::Malformed(Malformed::NoToken));
    /// assert_eq!(
    ///     Credentials::parse("Bearer a,b"),
    ///     Credentials::Malformed(Malformed::NotB64Token)
    /// );
    /// ```
    pub fn parse(value: &'r str) -> Credentials<'r> {
        if value.is_empty() {
            return Credentials::Missing;
        }
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Bearer") {
            return Credentials::OtherScheme;
        }
        match token.trim_start_matches(' ') {
            "" => Credentials::Malformed(Malformed::NoToken),
            token if is_b64token(token) => Credentials::Bearer(Token(token)),
            _ => Credentials::Malformed(Malformed::NotB64Token),
        }
    }
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
/// (RFC 6750 §2.1).
pub(crate) fn is_b64token(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| B64TOKEN[usize::from(b)])
}

/// The characters of a b64token before its padding, as a table: one load
/// per byte of a token hundreds of bytes long, on every request.
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Credentials<'r> {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Infallible> {
        Outcome::Success(Credentials::read(request))
    }
}

/// A route that names `Credentials` stops the launch when the library's
/// catchers are not registered (see [`catchers_missing`]).
impl Sentinel for Credentials<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        catchers_missing(rocket)
    }
}

#[cfg(test)]
mod tests {
    use super::{Credentials, Malformed, is_b64token};

    #[test]
    fn a_b64token_is_the_rfc_6750_alphabet_then_padding() {
        for token in ["a", "A-Z.0_9~+/", "abc==", "eyJ0.eyJz.c2ln"] {
            assert!(is_b64token(token), "{token}");
        }
        for token in ["", "=", "a=b", "a b", "a,b", "é", "a\"", "a\t"] {
            assert!(!is_b64token(token), "{token}");
        }
        // Every ASCII character, alone: the 66 of the alphabet and no other.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
        for c in (0..=127u8).map(char::from) {
            assert_eq!(is_b64token(&c.to_string()), alphabet.contains(c), "{c:?}");
        }
    }

    #[test]
    fn parsing_tells_each_shape_apart() {
        let bearer = |token| match Credentials::parse(token) {
            Credentials::Bearer(token) => Some(token.as_str()),
            _ => None,
        };
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER   abc"), Some("abc"));
        let cases = [
            ("", Credentials::Missing),
            ("Bearer\t ", Credentials::OtherScheme),
            (
                "Bearer abc ",
                Credentials::Malformed(Malformed::NotB64Token),
            ),
            ("Basic YTpi", Credentials::OtherScheme),
            ("Bearer\tabc", Credentials::OtherScheme),
            ("Bearer", Credentials::Malformed(Malformed::NoToken)),
            ("Bearer   ", Credentials::Malformed(Malformed::NoToken)),
            ("Bearer a b", Credentials::Malformed(Malformed::NotB64Token)),
            ("Bearer a=b", Credentials::Malformed(Malformed::NotB64Token)),
        ];
        for (value, expected) in cases {
            assert_eq!(Credentials::parse(value), expected, "{value:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_token() {
        let credentials = Credentials::parse("Bearer s3cr3t");
        assert_eq!(format!("{credentials:?}"), "Bearer(Token(..))");
    }
}
