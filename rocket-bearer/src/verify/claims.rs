//! The claims of a verified access token (RFC 9068 §2.2), and the app's own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};

/// The claims of a verified access token: the standard ones of RFC 9068
/// §2.2, and the app's own as `C`, any `Deserialize` type read from the same
/// JSON object (the default, [`NoClaims`], reads none).
///
/// `Debug` prints the claims' names only, never their values, so that a log
/// line with `{:?}` cannot carry them.
///
/// ```
/// use rocket_bearer::verify::Claims;
/// use serde::Deserialize;
///
/// /// The claims this app reads beside the standard ones.
/// #[derive(Deserialize)]
/// struct Tenant {
///     tenant: String,
/// }
///
/// let claims: Claims<Tenant> = serde_json::from_str(
///     r#"{"iss":"https://as.example","aud":"https://api.example/","exp":2000000000,
///        "sub":"alice","scope":"read write","tenant":"acme"}"#,
/// )?;
/// assert!(claims.scope.contains("write"));
/// assert_eq!(claims.extra.tenant, "acme");
/// assert_eq!(format!("{claims:?}"), "Claims { sub, scope, aud, iss, exp, .. }");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct Claims<C = NoClaims> {
    /// Whom the token is about: a user, or the client itself for a
    /// client-credentials token.
    pub sub: Option<String>,
    /// The client the token was issued to (RFC 8693 §4.3).
    pub client_id: Option<String>,
    /// The scopes granted: the space-separated `scope` (RFC 8693 §4.2), or
    /// `scp` as a string or a list, as Entra ID and Okta send it.
    #[serde(default, deserialize_with = "scopes", alias = "scp")]
    pub scope: BTreeSet<String>,
    /// The audiences: one string or a list, read as a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// The issuer.
    #[serde(default)]
    pub iss: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: Option<u64>,
    /// The token's identifier.
    pub jti: Option<String>,
    /// The authentication context class the user authenticated with
    /// (RFC 9068 §2.2.1, RFC 9470 §6).
    pub acr: Option<String>,
    /// When the user authenticated, seconds since the epoch (RFC 9068
    /// §2.2.1, RFC 9470 §6).
    pub auth_time: Option<u64>,
    /// The key the token is bound to (RFC 7800; `jkt` for DPoP, RFC 9449
    /// §6): a token with one is accepted only with a proof of that key.
    pub cnf: Option<Confirmation>,
    /// Not before, seconds since the epoch: checked by the verifier, not
    /// kept for the route.
    #[serde(default)]
    nbf: Option<u64>,
    /// The app's own claims.
    #[serde(flatten)]
    pub extra: C,
}

impl<C> Claims<C> {
    pub(crate) fn nbf(&self) -> Option<u64> {
        self.nbf
    }
}

/// The confirmation claim (RFC 7800 §3.1): the key a token is bound to.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct Confirmation {
    /// The RFC 7638 SHA-256 thumbprint of the DPoP key (RFC 9449 §6.1).
    pub jkt: Option<String>,
    /// The names of its other members (`x5t#S256`, `jwk`, …): bindings
    /// the verifier cannot check, so a token with one is refused.
    #[serde(flatten)]
    others: BTreeMap<String, IgnoredAny>,
}

impl Confirmation {
    /// Whether the token is bound by DPoP's `jkt` and nothing else.
    pub(crate) fn is_dpop_only(&self) -> bool {
        self.jkt.is_some() && self.others.is_empty()
    }
}

/// No claims beyond the standard ones: the default of [`Claims`].
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
pub struct NoClaims {}

impl<C> fmt::Debug for Claims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = [
            ("sub", self.sub.is_some()),
            ("client_id", self.client_id.is_some()),
            ("scope", !self.scope.is_empty()),
            ("aud", !self.aud.is_empty()),
            ("iss", !self.iss.is_empty()),
            ("exp", true),
            ("iat", self.iat.is_some()),
            ("jti", self.jti.is_some()),
            ("acr", self.acr.is_some()),
            ("auth_time", self.auth_time.is_some()),
            ("cnf", self.cnf.is_some()),
        ];
        let names: Vec<&str> = present
            .into_iter()
            .filter_map(|(name, present)| present.then_some(name))
            .collect();
        write!(f, "Claims {{ {}, .. }}", names.join(", "))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

fn scopes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<String>, D::Error> {
    let scopes: BTreeSet<String> = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(list) => list.split(' ').map(str::to_owned).collect(),
        OneOrMany::Many(many) => many.into_iter().collect(),
    };
    if scopes.iter().any(String::is_empty) {
        return Err(de::Error::custom("a scope list with an empty scope"));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::Claims;

    #[test]
    fn scope_and_audience_read_every_form_authorization_servers_send() {
        let read = |json: &str| serde_json::from_str::<Claims>(json).map(|c| (c.scope, c.aud));
        let (scope, aud) = read(r#"{"exp":1,"scope":"a b","aud":"x"}"#).expect("string forms");
        assert_eq!(scope.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(aud, ["x"]);
        let (scope, aud) = read(r#"{"exp":1,"scp":["a","b"],"aud":["x","y"]}"#).expect("lists");
        assert_eq!(scope.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(aud, ["x", "y"]);
        assert!(read(r#"{"exp":1,"scope":"a  b"}"#).is_err());
        assert!(read(r#"{"scope":"a"}"#).is_err(), "exp is required");
    }
}
