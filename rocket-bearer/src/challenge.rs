//! The `WWW-Authenticate` challenge of RFC 6750 §3, and the values that go
//! into it, each checked against its character rule when it is made.
//!
//! Every value follows a rule that keeps it inside a quoted-string without
//! escaping (no `"`, no `\`), so a challenge is the parameters' bytes as they
//! are, and nothing is checked or escaped while a request is answered.

use std::borrow::Cow;
use std::fmt;

use rocket::http::Header;
use serde::Deserialize;

use crate::rejection::Rejection;

/// The character rule of one parameter (RFC 6750 §3, RFC 9110 §5.6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// `1*( %x20-21 / %x23-5B / %x5D-7E )`: visible ASCII and spaces, without
    /// `"` or `\`. RFC 6750 gives this rule to `error_description`; a realm
    /// follows it too, so that it stands in its quoted-string as it is.
    Text,
    /// `1*( %x21 / %x23-5B / %x5D-7E )`: the same without spaces
    /// (`error_uri`).
    NoSpaces,
    /// `scope-token *( SP scope-token )`, each token following [`Rule::NoSpaces`].
    Tokens,
}

impl Rule {
    const fn allows(self, text: &str) -> bool {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return false;
        }
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            let visible = byte >= 0x21 && byte <= 0x7e && byte != b'"' && byte != b'\\';
            let allowed = match self {
                Rule::Text => visible || byte == b' ',
                Rule::NoSpaces => visible,
                // A space only between two tokens: not first, not last, not doubled.
                Rule::Tokens => {
                    visible
                        || (byte == b' ' && at > 0 && at + 1 < bytes.len() && bytes[at + 1] != b' ')
                }
            };
            if !allowed {
                return false;
            }
            at += 1;
        }
        true
    }

    const fn explain(self) -> &'static str {
        match self {
            Rule::Text => text_rule!(),
            Rule::NoSpaces => no_spaces_rule!(),
            Rule::Tokens => tokens_rule!(),
        }
    }
}

// The rules' wording, as literals, so that `from_static`'s compile-time
// message can `concat!` them: one text for both messages.
macro_rules! text_rule {
    () => {
        "non-empty visible ASCII and spaces, without '\"' or '\\'"
    };
}
macro_rules! no_spaces_rule {
    () => {
        "non-empty visible ASCII without spaces, '\"' or '\\'"
    };
}
macro_rules! tokens_rule {
    () => {
        "tokens of visible ASCII without '\"' or '\\', separated by single spaces"
    };
}
use {no_spaces_rule, text_rule, tokens_rule};

/// A value refused by the rule of its parameter. It displays as one line that
/// names the parameter, the value and the rule:
///
/// ```
/// use rocket_bearer::Realm;
///
/// let error = Realm::new("a\"b").unwrap_err();
/// assert_eq!(error.parameter(), "realm");
/// assert_eq!(
///     error.to_string(),
///     r#"realm "a\"b" must be non-empty visible ASCII and spaces, without '"' or '\'"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParameter {
    parameter: &'static str,
    rule: Rule,
    value: String,
}

impl InvalidParameter {
    /// The parameter whose rule the value breaks: `realm`, `scope`,
    /// `error_description` or `error_uri`.
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }
}

impl fmt::Display for InvalidParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (parameter, value, rule) = (self.parameter, &self.value, self.rule.explain());
        write!(f, "{parameter} {value:?} must be {rule}")
    }
}

impl std::error::Error for InvalidParameter {}

/// One parameter value type: checked by `new` at run time, or by
/// `from_static` at compile time when used in a `const`.
macro_rules! parameter {
    ($(#[$doc:meta])* $name:ident, $parameter:literal, $rule:expr, $wording:ident, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(Cow<'static, str>);

        impl $name {
            #[doc = concat!("Checks `text` against the rule of `", $parameter, "`.")]
            ///
            /// ```
            #[doc = concat!("use rocket_bearer::", stringify!($name), ";")]
            ///
            #[doc = concat!("let value = ", stringify!($name), "::new(String::from(\"", $example, "\"))?;")]
            #[doc = concat!("assert_eq!(value.as_str(), \"", $example, "\");")]
            #[doc = concat!("assert!(", stringify!($name), "::new(\"quote \\\" inside\").is_err());")]
            /// # Ok::<(), rocket_bearer::InvalidParameter>(())
            /// ```
            pub fn new(text: impl Into<String>) -> Result<$name, InvalidParameter> {
                let text = text.into();
                if $rule.allows(&text) {
                    Ok($name(Cow::Owned(text)))
                } else {
                    Err(InvalidParameter {
                        parameter: $parameter,
                        rule: $rule,
                        value: text,
                    })
                }
            }

            /// A literal, checked without allocating. In a `const` the check
            /// runs at compile time, so a bad literal does not build;
            /// elsewhere a bad literal panics.
            ///
            /// ```
            #[doc = concat!("use rocket_bearer::", stringify!($name), ";")]
            ///
            #[doc = concat!("const VALUE: ", stringify!($name), " = ", stringify!($name), "::from_static(\"", $example, "\");")]
            /// ```
            pub const fn from_static(text: &'static str) -> $name {
                if !$rule.allows(text) {
                    panic!(concat!($parameter, " must be ", $wording!(), " (RFC 6750 §3)"));
                }
                $name(Cow::Borrowed(text))
            }

            /// The value, as it goes between the quotes.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidParameter;

            fn try_from(text: String) -> Result<$name, InvalidParameter> {
                $name::new(text)
            }
        }
    };
}

parameter!(
    /// The protection space named in every challenge (RFC 9110 §11.5):
    /// non-empty visible ASCII and spaces, without `"` or `\`.
    ///
    /// The realm is optional (RFC 6750 §3). Manage one in your rocket, and
    /// every challenge the library writes names it:
    ///
    /// ```
    /// use rocket_bearer::Realm;
    ///
    /// let rocket = rocket::build()
    ///     .manage(Realm::from_static("my api"))
    ///     .register("/", rocket_bearer::catchers());
    /// ```
    ///
    /// It deserializes from a string, so it can be a key of your
    /// configuration; `2024` in TOML is a number and is refused, `"2024"` is
    /// taken.
    Realm,
    "realm",
    Rule::Text,
    text_rule,
    "my api"
);

parameter!(
    /// The scope a resource needs, sent with `insufficient_scope` (RFC 6750
    /// §3): one or more scope tokens (visible ASCII without `"` or `\`)
    /// separated by single spaces, as in `read write`.
    ///
    /// ```
    /// use rocket_bearer::{Rejection, Scope};
    ///
    /// const ADMIN: Scope = Scope::from_static("admin");
    /// let rejection = Rejection::insufficient_scope(ADMIN);
    /// assert!(Scope::new("read write").is_ok());
    /// assert!(Scope::new("read  write").is_err()); // one space between tokens
    /// ```
    Scope,
    "scope",
    Rule::Tokens,
    tokens_rule,
    "admin read"
);

parameter!(
    /// Text for the developer reading the challenge (`error_description`,
    /// RFC 6750 §3): non-empty, visible ASCII and spaces, without `"` or
    /// `\`. Problem details carry it as `detail`.
    ///
    /// ```
    /// use rocket_bearer::{Description, Rejection};
    ///
    /// const EXPIRED: Description = Description::from_static("the token has expired");
    /// let rejection = Rejection::from(Rejection::invalid_token().with_description(EXPIRED));
    /// assert_eq!(rejection.description(), Some(&EXPIRED));
    /// assert!(Description::new("").is_err());
    /// ```
    Description,
    "error_description",
    Rule::Text,
    text_rule,
    "the token has expired"
);

parameter!(
    /// A page that explains the error (`error_uri`, RFC 6750 §3): visible
    /// ASCII without spaces, `"` or `\`. RFC 6750 wants an absolute URI;
    /// that part is yours to keep.
    ///
    /// ```
    /// use rocket_bearer::{ErrorUri, Rejection};
    ///
    /// const HELP: ErrorUri = ErrorUri::from_static("https://example.com/errors/token");
    /// let rejection = Rejection::invalid_token().with_uri(HELP);
    /// ```
    ErrorUri,
    "error_uri",
    Rule::NoSpaces,
    no_spaces_rule,
    "https://example.com/errors/expired"
);

parameter!(
    /// The authentication context classes a resource accepts, sent with
    /// `insufficient_user_authentication` (RFC 9470 §3): one or more `acr`
    /// values separated by single spaces, in order of preference.
    ///
    /// ```
    /// use rocket_bearer::AcrValues;
    ///
    /// const MFA: AcrValues = AcrValues::from_static("urn:example:mfa phr");
    /// assert!(AcrValues::new("mfa  phr").is_err()); // one space between values
    /// ```
    AcrValues,
    "acr_values",
    Rule::Tokens,
    tokens_rule,
    "mfa phr"
);

/// An authentication scheme a challenge is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1).
    Dpop,
}

/// The schemes a refusal challenges with, and the one the request used.
///
/// RFC 9449 §7.2: a resource that takes both schemes offers both; an
/// error goes on the challenge of the scheme the request used, the other
/// challenge only says the scheme is there. With no scheme used (no
/// credentials, or an `Authorization` that names none unambiguously), an
/// error goes on every challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schemes {
    pub(crate) bearer: bool,
    pub(crate) dpop: bool,
    pub(crate) used: Option<Scheme>,
}

/// The DPoP challenge's `algs` (RFC 9449 §7.1): the asymmetric algorithms
/// the verifier checks proofs with (`verify::settings::ASYMMETRIC`).
pub(crate) const DPOP_ALGS: &str = "ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA";

impl Schemes {
    /// Bearer alone: the library's answer without the verifier.
    pub(crate) const BEARER: Schemes = Schemes {
        bearer: true,
        dpop: false,
        used: None,
    };
}

/// A `WWW-Authenticate` field value: one challenge per scheme offered, each
/// the scheme, one space, then parameters separated by commas (RFC 9110
/// §11.3, §11.6.1), every value a quoted-string, in the order realm, error,
/// error_description, error_uri, scope, acr_values, max_age, algs,
/// resource_metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge(String);

impl Challenge {
    /// The challenges for `rejection`, naming `realm` and the URL of the
    /// resource's metadata (RFC 9728 §5.1) when the rocket has them.
    pub(crate) fn new(
        realm: Option<&Realm>,
        resource_metadata: Option<&str>,
        rejection: &Rejection,
    ) -> Challenge {
        let schemes = rejection.schemes();
        let mut value = String::with_capacity(64);
        let offered = [
            (Scheme::Bearer, "Bearer", schemes.bearer, None),
            (Scheme::Dpop, "DPoP", schemes.dpop, Some(DPOP_ALGS)),
        ];
        for (scheme, name, is_offered, algs) in offered {
            if !is_offered {
                continue;
            }
            let error = schemes.used.is_none_or(|used| used == scheme);
            let max_age = rejection
                .max_age()
                .filter(|_| error)
                .map(|age| age.to_string());
            let parameters = [
                ("realm", realm.map(Realm::as_str)),
                ("error", rejection.error_code().filter(|_| error)),
                (
                    "error_description",
                    rejection
                        .description()
                        .filter(|_| error)
                        .map(Description::as_str),
                ),
                (
                    "error_uri",
                    rejection.uri().filter(|_| error).map(ErrorUri::as_str),
                ),
                (
                    "scope",
                    if error {
                        rejection.scope()
                    } else {
                        rejection.required_scope()
                    }
                    .map(Scope::as_str),
                ),
                (
                    "acr_values",
                    rejection
                        .acr_values()
                        .filter(|_| error)
                        .map(AcrValues::as_str),
                ),
                ("max_age", max_age.as_deref()),
                ("algs", algs),
                ("resource_metadata", resource_metadata),
            ];
            if !value.is_empty() {
                value.push_str(", ");
            }
            value.push_str(name);
            let mut separator = " ";
            for (name, text) in parameters {
                if let Some(text) = text {
                    value.extend([separator, name, "=\"", text, "\""]);
                    separator = ", ";
                }
            }
        }
        Challenge(value)
    }
}

impl From<Challenge> for Header<'static> {
    fn from(challenge: Challenge) -> Header<'static> {
        Header::new("WWW-Authenticate", challenge.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Challenge, Description, ErrorUri, Realm, Rule, Scope};
    use crate::rejection::Rejection;

    #[test]
    fn each_rule_takes_what_rfc_6750_allows_and_nothing_else() {
        let cases = [
            (Rule::Text, "a b!#[]~", true),
            (Rule::Text, " leading and trailing ", true),
            (Rule::NoSpaces, "https://x.example/a?b=c#d", true),
            (Rule::NoSpaces, "a b", false),
            (Rule::Tokens, "read write", true),
            (Rule::Tokens, "read", true),
            (Rule::Tokens, " read", false),
            (Rule::Tokens, "read ", false),
            (Rule::Tokens, "read  write", false),
        ];
        for (rule, text, allowed) in cases {
            assert_eq!(rule.allows(text), allowed, "{rule:?} {text:?}");
        }
        for rule in [Rule::Text, Rule::NoSpaces, Rule::Tokens] {
            for text in [
                "", "a\"b", "a\\b", "café", "tab\t", "nl\n", "nul\0", "del\x7f",
            ] {
                assert!(!rule.allows(text), "{rule:?} {text:?}");
            }
        }
    }

    #[test]
    fn a_challenge_lists_its_parameters_in_order_separated_by_commas() {
        let realm = Realm::from_static("api");
        let metadata = "https://api.example/.well-known/oauth-protected-resource";
        let full = Rejection::insufficient_scope(Scope::from_static("admin"))
            .with_description(Description::from_static("needs admin"))
            .with_uri(ErrorUri::from_static("https://e.example/scope"));
        let cases = [
            (
                Some(&realm),
                None,
                Rejection::missing_credentials(),
                r#"Bearer realm="api""#,
            ),
            (None, None, Rejection::missing_credentials(), "Bearer"),
            (
                None,
                Some(metadata),
                Rejection::missing_credentials(),
                r#"Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource""#,
            ),
            (
                None,
                None,
                Rejection::invalid_token().into(),
                r#"Bearer error="invalid_token""#,
            ),
            (
                Some(&realm),
                Some(metadata),
                full.into(),
                r#"Bearer realm="api", error="insufficient_scope", error_description="needs admin", error_uri="https://e.example/scope", scope="admin", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#,
            ),
        ];
        for (realm, metadata, rejection, expected) in cases {
            assert_eq!(Challenge::new(realm, metadata, &rejection).0, expected);
        }
    }

    #[test]
    #[cfg(feature = "verify")]
    fn with_both_schemes_an_error_goes_only_on_the_scheme_the_request_used() {
        use super::{AcrValues, Scheme, Schemes};
        let both = |used| Schemes {
            bearer: true,
            dpop: true,
            used,
        };
        let dpop_only = Schemes {
            bearer: false,
            dpop: true,
            used: Some(Scheme::Dpop),
        };
        let expired = || {
            Rejection::from(
                Rejection::invalid_token()
                    .with_description(Description::from_static("the token has expired")),
            )
        };
        let admin = Scope::from_static("admin");
        let algs = r#"algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA""#;
        let step_up = Rejection::insufficient_user_authentication(
            Some(AcrValues::from_static("mfa")),
            Some(300),
        );
        let cases = [
            (
                Rejection::missing_credentials()
                    .with_required_scope(admin.clone())
                    .with_schemes(both(None)),
                format!(r#"Bearer scope="admin", DPoP scope="admin", {algs}"#),
            ),
            (
                expired().with_schemes(both(Some(Scheme::Bearer))),
                format!(
                    r#"Bearer error="invalid_token", error_description="the token has expired", DPoP {algs}"#
                ),
            ),
            (
                expired().with_schemes(both(Some(Scheme::Dpop))),
                format!(
                    r#"Bearer, DPoP error="invalid_token", error_description="the token has expired", {algs}"#
                ),
            ),
            (
                Rejection::from(Rejection::invalid_request()).with_schemes(both(None)),
                format!(r#"Bearer error="invalid_request", DPoP error="invalid_request", {algs}"#),
            ),
            (
                Rejection::from(step_up).with_schemes(dpop_only),
                format!(
                    r#"DPoP error="insufficient_user_authentication", acr_values="mfa", max_age="300", {algs}"#
                ),
            ),
        ];
        for (rejection, expected) in cases {
            assert_eq!(Challenge::new(None, None, &rejection).0, expected);
        }
    }
}
