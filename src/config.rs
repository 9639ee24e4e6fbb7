//! The service's own configuration keys, read through Rocket's figment.
//!
//! Rocket's `Config` is extracted here too, before Rocket does it itself: a
//! bad value then becomes one line naming the key, where Rocket would panic
//! (`#[rocket::main]`, `Config::from`) or print a report over several lines.

use std::fmt;
use std::path::PathBuf;

use rocket::Config;
use rocket::figment::value::{Dict, Map};
use rocket::figment::{self, Figment, Metadata, Profile, Provider, Source};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Rocket's figment (`Rocket.toml`, then `ROCKET_*` variables), with the
/// service's own keys taken verbatim from `ROCKET_REALM` and
/// `ROCKET_STATIC_DIR`. Figment parses environment values as data, so that
/// `007` would become the number 7, `[a]` a list and ` a ` plain `a`; a realm
/// and a path are text.
pub fn figment() -> Figment {
    Config::figment()
        .merge(Verbatim("realm"))
        .merge(Verbatim("static_dir"))
}

/// The variable `ROCKET_<KEY>` as a string, for `<key>`.
struct Verbatim(&'static str);

impl Verbatim {
    fn variable(&self) -> String {
        format!("ROCKET_{}", self.0.to_ascii_uppercase())
    }
}

impl Provider for Verbatim {
    fn metadata(&self) -> Metadata {
        let key = self.0;
        Metadata::named("environment variable")
            .source(Source::Custom(self.variable()))
            .interpolater(move |_, _| key.to_owned())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        if let Ok(value) = std::env::var(self.variable()) {
            dict.insert(self.0.to_owned(), value.into());
        }
        Ok(Profile::Global.collect(dict))
    }
}

/// The service's settings: the `realm` and `static_dir` keys of `Rocket.toml`,
/// overridable as `ROCKET_REALM` and `ROCKET_STATIC_DIR`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Settings {
    /// The protection space named in every challenge (RFC 9110 §11.5).
    #[serde(default)]
    pub realm: Realm,
    /// The directory served at `/`, relative to the working directory.
    #[serde(default = "default_static_dir")]
    pub static_dir: PathBuf,
}

fn default_static_dir() -> PathBuf {
    PathBuf::from("static")
}

impl Settings {
    /// Reads and checks the settings, and Rocket's own configuration, from
    /// `figment`: the first problem is returned as one line naming the key.
    pub fn from_figment(figment: &Figment) -> Result<Settings, ConfigError> {
        Config::try_from(figment)?;
        let settings: Settings = figment.extract()?;
        if !settings.static_dir.is_dir() {
            return Err(ConfigError::MissingStaticDir(settings.static_dir));
        }
        Ok(settings)
    }
}

/// A realm that can stand in a quoted-string as it is: non-empty, visible
/// ASCII and spaces, without `"` or `\` (RFC 9110 §5.6.4), so no escaping is
/// ever needed and the challenge is the same bytes for every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm(String);

impl Realm {
    /// Checks `text` against the rule above.
    pub fn new(text: impl Into<String>) -> Result<Realm, InvalidRealm> {
        let text = text.into();
        let allowed = |c: char| c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\');
        if text.is_empty() || !text.chars().all(allowed) {
            return Err(InvalidRealm(text));
        }
        Ok(Realm(text))
    }

    /// The realm's text, as it goes between the quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Realm {
    /// `example`, the contract's default.
    fn default() -> Realm {
        Realm("example".to_owned())
    }
}

impl fmt::Display for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A realm is text, but `realm = 2024` in `Rocket.toml` is a number: a realm
/// takes any scalar as its text. (`ROCKET_REALM` is read verbatim by
/// [`figment`].)
impl<'de> Deserialize<'de> for Realm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Realm, D::Error> {
        struct RealmText;

        impl Visitor<'_> for RealmText {
            type Value = String;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a realm (text)")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
                Ok(text.to_owned())
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
                Ok(value.to_string())
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
                Ok(value.to_string())
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
                Ok(value.to_string())
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
                Ok(value.to_string())
            }
        }

        let text = deserializer.deserialize_any(RealmText)?;
        Realm::new(text).map_err(de::Error::custom)
    }
}

/// A realm outside the rule of [`Realm`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRealm(pub String);

impl fmt::Display for InvalidRealm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "realm {:?} must be non-empty visible ASCII and spaces, without '\"' or '\\'",
            self.0
        )
    }
}

impl std::error::Error for InvalidRealm {}

/// Why the service cannot start with the configuration it was given. It
/// displays as one line that names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A key Figment could not extract (`port = "abc"`, a bad `realm`, a
    /// malformed `Rocket.toml`, …): Figment's first message, which names the
    /// key and where its value came from.
    Invalid(String),
    /// `static_dir` is not a directory.
    MissingStaticDir(PathBuf),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid(message) => write!(f, "invalid configuration: {message}"),
            ConfigError::MissingStaticDir(dir) => write!(
                f,
                "invalid configuration: static_dir {:?} is not a directory (relative to the working directory)",
                dir.display().to_string()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<figment::Error> for ConfigError {
    /// Keeps the first of Figment's errors, on one line.
    fn from(error: figment::Error) -> ConfigError {
        let first = error.into_iter().next().map(|e| e.to_string());
        ConfigError::Invalid(first.unwrap_or_default().replace('\n', " "))
    }
}
