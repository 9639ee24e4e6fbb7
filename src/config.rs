//! The service's own configuration keys, read through Rocket's figment.
//!
//! Rocket's `Config` is extracted here too, before Rocket does it itself: a
//! bad value then becomes one line naming the key, where Rocket would panic
//! (`#[rocket::main]`, `Config::from`) or print a report over several lines.

use std::fmt;
use std::io;
use std::path::PathBuf;

use rocket::Config;
use rocket::figment::value::{Dict, Map};
use rocket::figment::{self, Figment, Metadata, Profile, Provider, Source};
use rocket_bearer::Realm;
use serde::Deserialize;

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

/// The service's settings: the `realm`, `static_dir` and `drain` keys of
/// `Rocket.toml`, overridable as `ROCKET_REALM`, `ROCKET_STATIC_DIR` and
/// `ROCKET_DRAIN`. [`crate::custom`] reads them; they are public so that a
/// test can check what a profile resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Settings {
    /// The protection space named in every challenge (RFC 9110 §11.5). A
    /// realm is text: `realm = 2024` in `Rocket.toml` is refused as a number,
    /// `realm = "2024"` is taken. (`ROCKET_REALM=2024` is text already: see
    /// [`figment()`].)
    #[serde(default = "default_realm")]
    pub realm: Realm,
    /// The directory served at `/`, relative to the working directory. Its
    /// files are read once, when the service is built: a changed file is
    /// served after a restart.
    #[serde(default = "default_static_dir")]
    pub static_dir: PathBuf,
    /// Seconds between the first SIGTERM or SIGINT and the start of the
    /// graceful shutdown, while `/readyz` answers 503 (see `src/drain.rs`).
    #[serde(default)]
    pub drain: u32,
}

/// `example`, the contract's default.
fn default_realm() -> Realm {
    Realm::from_static("example")
}

fn default_static_dir() -> PathBuf {
    PathBuf::from("static")
}

impl Settings {
    /// Reads and checks the settings, and Rocket's own configuration, from
    /// `figment`: the first problem is returned as one line naming the key.
    pub fn from_figment(figment: &Figment) -> Result<Settings, ConfigError> {
        let config = Config::try_from(figment)?;
        // tokio panics on a runtime of zero threads of either kind.
        for (key, threads) in [
            ("workers", config.workers),
            ("max_blocking", config.max_blocking),
        ] {
            if threads == 0 {
                return Err(ConfigError::NoThreads(key));
            }
        }
        let settings: Settings = figment.extract()?;
        if !settings.static_dir.is_dir() {
            return Err(ConfigError::MissingStaticDir(settings.static_dir));
        }
        Ok(settings)
    }
}

/// Why the service cannot start with the configuration it was given. It
/// displays as one line that names the key.
#[derive(Debug, Clone)]
pub enum ConfigError {
    /// A key Figment could not extract (`port = "abc"`, a bad `realm`, a
    /// malformed `Rocket.toml`, …). Figment's error names the key and where
    /// its value came from.
    Invalid(Box<figment::Error>),
    /// `static_dir` is not a directory.
    MissingStaticDir(PathBuf),
    /// `static_dir`, or a file in it, cannot be read: the service reads
    /// them all before it listens (see `src/page.rs`).
    UnreadableStatic(PathBuf, io::ErrorKind),
    /// `workers` or `max_blocking` is 0: the runtime needs at least one
    /// thread of each kind.
    NoThreads(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Figment chains every error it found, one a line: the first says
            // enough, and a start-up error is one line.
            ConfigError::Invalid(error) => match error.clone().into_iter().next() {
                Some(first) => {
                    let first = first.to_string().replace('\n', " ");
                    write!(f, "invalid configuration: {first}")
                }
                None => write!(f, "invalid configuration"),
            },
            ConfigError::NoThreads(key) => {
                write!(
                    f,
                    "invalid configuration: {key} is 0, it must be at least 1"
                )
            }
            ConfigError::MissingStaticDir(dir) => write!(
                f,
                "invalid configuration: static_dir {:?} is not a directory (relative to the working directory)",
                dir.display().to_string()
            ),
            ConfigError::UnreadableStatic(path, kind) => write!(
                f,
                "invalid configuration: static_dir: cannot read {:?}: {kind}",
                path.display().to_string()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<figment::Error> for ConfigError {
    fn from(error: figment::Error) -> ConfigError {
        ConfigError::Invalid(Box::new(error))
    }
}
