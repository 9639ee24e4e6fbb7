//! The page at `/` and the files beside it, served from memory: every file
//! of `static_dir` is read once, when the service is built, so that no
//! request touches the filesystem and a path that names no file goes
//! straight to the JSON 404. A file changed on disk is served once the
//! service restarts.
//!
//! Served: the regular files at the top of the directory (symbolic links
//! followed), `index.html` also at `/`, each with the `Content-Type` of its
//! extension (none for an unknown one). Not served, as with Rocket's
//! `FileServer`: hidden files. Not served either: subdirectories, which the
//! page has no use for, and anything that is not a regular file.
//!
//! Each answer carries a strong `ETag` and `Cache-Control: no-cache`: a
//! cache may keep the file but asks each time whether it is still current
//! (RFC 9111 §5.2.2.4), and a file changed by a restart is seen at once; the
//! page's files have fixed names, so a lifetime without that question would
//! serve a stale page. The question costs a 304 without a body.

use std::collections::HashMap;
use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Cursor};
use std::path::Path;
use std::sync::Arc;

use rocket::http::{ContentType, Header, Method, Status};
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request, Response};

use crate::config::ConfigError;

/// The file served at `/`.
const INDEX: &str = "index.html";

/// Below every other route, like `FileServer`: `/example` and the
/// operational endpoints keep their paths whatever files the directory holds.
const RANK: isize = 10;

/// The files of a static directory, read into memory; mounted, it serves
/// them (`rocket.mount("/", page)`).
#[derive(Clone)]
pub struct Page {
    files: Arc<HashMap<String, File>>,
}

/// One file, ready to be sent.
struct File {
    bytes: Arc<[u8]>,
    content_type: Option<ContentType>,
    /// The quoted entity-tag (RFC 9110 §8.8.3).
    etag: String,
}

impl Page {
    /// Reads the served files of `dir`; a directory or a file that cannot be
    /// read is a [`ConfigError::UnreadableStatic`] naming it.
    pub fn read(dir: &Path) -> Result<Page, ConfigError> {
        let unreadable = |path: &Path, error: io::Error| {
            ConfigError::UnreadableStatic(path.to_owned(), error.kind())
        };
        let mut files = HashMap::new();
        for entry in fs::read_dir(dir).map_err(|error| unreadable(dir, error))? {
            let entry = entry.map_err(|error| unreadable(dir, error))?;
            // A name that is not UTF-8 cannot be asked for in a URI path.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // Follows a symbolic link: a dangling one is an unreadable file.
            let metadata = fs::metadata(&path).map_err(|error| unreadable(&path, error))?;
            if !metadata.is_file() {
                continue;
            }
            let bytes = fs::read(&path).map_err(|error| unreadable(&path, error))?;
            let file = File::new(&name, bytes);
            files.insert(name, file);
        }
        Ok(Page {
            files: Arc::new(files),
        })
    }
}

impl From<Page> for Vec<Route> {
    /// GET (and so HEAD) for any path; the handler answers the files' own.
    fn from(page: Page) -> Vec<Route> {
        vec![Route::ranked(RANK, Method::Get, "/<path..>", page)]
    }
}

#[rocket::async_trait]
impl Handler for Page {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        // Decoded, without empty segments: `/` has none, `/app.js/` one.
        let mut segments = request.uri().path().segments();
        let name = match (segments.next(), segments.next()) {
            (None, _) => Some(INDEX),
            (Some(name), None) => Some(name),
            (Some(_), Some(_)) => None,
        };
        match name.and_then(|name| self.files.get(name)) {
            Some(file) => route::Outcome::Success(file.response(request)),
            None => route::Outcome::Forward((data, Status::NotFound)),
        }
    }
}

impl File {
    fn new(name: &str, bytes: Vec<u8>) -> File {
        let content_type = Path::new(name)
            .extension()
            .and_then(|extension| extension.to_str())
            .and_then(ContentType::from_extension);
        File {
            etag: entity_tag(&bytes),
            bytes: bytes.into(),
            content_type,
        }
    }

    /// The file, or a 304 when the request's `If-None-Match` names it.
    fn response<'r>(&self, request: &Request<'_>) -> Response<'r> {
        let mut response = Response::build();
        // On the 304 too (RFC 9110 §15.4.5): they update the cached copy.
        response
            .header(Header::new("ETag", self.etag.clone()))
            .header(Header::new("Cache-Control", "no-cache"));
        if none_match_fails(request.headers().get("If-None-Match"), &self.etag) {
            // No representation metadata but the validator, and no body.
            response.status(Status::NotModified);
        } else {
            if let Some(content_type) = &self.content_type {
                response.header(content_type.clone());
            }
            let body = Cursor::new(Arc::clone(&self.bytes));
            response.sized_body(self.bytes.len(), body);
        }
        response.finalize()
    }
}

/// A strong entity-tag for `bytes` (RFC 9110 §8.8.1): 64 bits of std's
/// SipHash with its fixed keys. A strong validator must change whenever the
/// bytes do; the files are read once per process, and with fixed keys every
/// instance of one build gives the same tag, so several hosts behind one
/// proxy agree. Another Rust release may hash differently, which costs one
/// full answer instead of a 304 after an upgrade, never a stale file.
fn entity_tag(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    format!("\"{:016x}\"", hasher.finish())
}

/// Whether the `If-None-Match` condition is false for a representation
/// tagged `etag` (RFC 9110 §13.1.2): its fields (one list, RFC 9110 §5.3)
/// are `*`, or one of their entity-tags matches `etag` by the weak
/// comparison (§8.8.3.2: the opaque tags are equal, `W/` or not). Then a GET
/// or a HEAD is answered 304. A header that is not a valid list is ignored:
/// the full answer is never wrong. Not hyperium's `headers` 0.4.2: its
/// entity-tag check debug-asserts that no space is inside the quotes, so a
/// client's `If-None-Match: "a b"` would panic a debug build.
fn none_match_fails<'h>(fields: impl Iterator<Item = &'h str>, etag: &str) -> bool {
    let mut named = false;
    for field in fields {
        if field.trim_matches(OWS) == "*" {
            named = true;
            continue;
        }
        let mut rest = field;
        loop {
            // Empty elements are allowed (RFC 9110 §5.6.1).
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let weak_or_strong = rest.strip_prefix("W/").unwrap_or(rest);
            let Some(tag) = opaque_tag(weak_or_strong) else {
                return false;
            };
            named |= tag == etag;
            rest = weak_or_strong[tag.len()..].trim_start_matches(OWS);
            if !(rest.is_empty() || rest.starts_with(',')) {
                return false;
            }
        }
    }
    named
}

/// Optional whitespace (RFC 9110 §5.6.3).
const OWS: [char; 2] = [' ', '\t'];

/// The opaque-tag that `text` starts with, quotes included: `"` *etagc `"`,
/// where etagc is any visible character but `"`, or obs-text (§8.8.3).
fn opaque_tag(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?;
    let end = inner.find(|c: char| !(c == '!' || ('#'..='~').contains(&c) || !c.is_ascii()))?;
    inner[end..].starts_with('"').then(|| &text[..end + 2])
}
