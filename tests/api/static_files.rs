//! `/` serves the page; the files beside it are served at the root, from
//! memory, each with a strong `ETag` that a conditional request can name.

use std::fs;
use std::path::Path;

use rocket::http::{Header, Method};
use rocket::local::blocking::{Client, LocalResponse};
use tempfile::TempDir;

use crate::helpers::{
    NOT_FOUND, assert_json_error, assert_shield_and_no_server, client, client_with, header,
    rocket_toml,
};

const HTML: &str = "text/html; charset=utf-8";

/// Every file may be stored, but not used without asking (RFC 9111
/// §5.2.2.4): a restart with a changed file is seen at once.
const NO_CACHE: &str = "no-cache";

/// The files' paths, `/` for `index.html`.
const FILES: [&str; 5] = ["/", "/index.html", "/app.js", "/style.css", "/icon.svg"];

#[test]
fn the_page_and_the_files_beside_it_are_served_at_the_root() {
    let client = client();
    for (uri, file, content_type) in [
        ("/", "static/index.html", HTML),
        ("/index.html", "static/index.html", HTML),
        ("/app.js", "static/app.js", "text/javascript"),
        ("/style.css", "static/style.css", "text/css; charset=utf-8"),
        ("/icon.svg", "static/icon.svg", "image/svg+xml"),
    ] {
        let response = client.get(uri).dispatch();
        assert_eq!(response.status().code, 200, "{uri}");
        assert_eq!(header(&response, "Content-Type"), content_type, "{uri}");
        assert_eq!(header(&response, "Cache-Control"), NO_CACHE, "{uri}");
        assert_strong(header(&response, "ETag"));
        assert_shield_and_no_server(&response);
        let expected = fs::read(file).expect("the file exists");
        assert_eq!(response.into_bytes(), Some(expected), "{uri}");
    }
}

#[test]
fn head_on_the_page_has_its_headers_and_no_body() {
    let client = client();
    let response = client.head("/").dispatch();
    assert_eq!(response.status().code, 200);
    assert_eq!(header(&response, "Content-Type"), HTML);
    assert_eq!(response.into_bytes(), Some(vec![]));
}

#[test]
fn every_local_file_the_page_names_is_served() {
    let page = fs::read_to_string("static/index.html").expect("static/index.html exists");
    let references: Vec<&str> = page
        .split("=\"/")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(references, ["icon.svg", "style.css", "app.js"]);
    let client = client();
    for path in references {
        let response = client.get(format!("/{path}")).dispatch();
        assert_eq!(response.status().code, 200, "{path}");
    }
}

#[test]
fn a_missing_static_file_is_a_json_404() {
    let client = client();
    for uri in ["/missing.js", "/static/index.html", "/.hidden", "/app.js/x"] {
        let response = client.get(uri).dispatch();
        assert_json_error(response, 404, NOT_FOUND);
    }
}

#[test]
fn methods_other_than_get_and_head_on_static_files_are_a_json_404() {
    let client = client();
    for method in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
        for uri in ["/", "/app.js"] {
            let response = client.req(method, uri).dispatch();
            assert_json_error(response, 404, NOT_FOUND);
        }
    }
}

#[test]
fn each_file_has_an_etag_of_its_own_and_head_gives_the_same() {
    let client = client();
    let tags: Vec<String> = FILES.iter().map(|uri| etag_of(&client, uri)).collect();
    // `/` and `/index.html` are one file.
    assert_eq!(tags[0], tags[1]);
    let mut distinct = tags[1..].to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{tags:?}");
    for (uri, tag) in FILES.iter().zip(&tags) {
        let response = client.head(*uri).dispatch();
        assert_eq!(header(&response, "ETag"), tag, "HEAD {uri}");
    }
}

#[test]
fn a_get_or_head_naming_the_files_etag_gets_a_304_with_the_validator_and_no_body() {
    let client = client();
    for uri in FILES {
        let tag = etag_of(&client, uri);
        for method in [Method::Get, Method::Head] {
            let response = conditional(&client, method, uri, &[&tag]);
            assert_not_modified(response, &tag, &format!("{method} {uri}"));
        }
    }
}

#[test]
fn if_none_match_is_a_304_for_a_star_a_list_or_a_weak_tag_naming_the_file_and_the_file_otherwise() {
    let client = client();
    let tag = etag_of(&client, "/");
    let bare = tag.trim_matches('"');
    let weak = format!("W/{tag}");
    let listed = format!(r#""other", {tag}"#);
    let tight = format!(r#""other",{tag}"#);
    let comma_inside = format!(r#""a,b", {tag}"#);
    let another_file = etag_of(&client, "/app.js");
    let not_modified: [&[&str]; 6] = [
        &["*"],
        &[&listed],
        &[&tight],
        &[&weak],
        &[&comma_inside],
        // Two fields are one list (RFC 9110 §5.3).
        &[r#""other""#, &tag],
    ];
    for fields in not_modified {
        let response = conditional(&client, Method::Get, "/", fields);
        assert_not_modified(response, &tag, &format!("{fields:?}"));
    }
    let page = fs::read("static/index.html").expect("the page exists");
    let modified: [&[&str]; 9] = [
        &[r#""other""#],
        &[r#"W/"other""#],
        &[&another_file],
        // Not a valid list of entity-tags: ignored, as if absent.
        &[bare],
        &[""],
        &[&format!("{tag}x")],
        &[&format!(r#"{tag} "other""#)],
        &[&format!("{tag}, *")],
        &[&format!(r#""a b", {tag}"#)],
    ];
    for fields in modified {
        let response = conditional(&client, Method::Get, "/", fields);
        assert_eq!(response.status().code, 200, "{fields:?}");
        assert_eq!(header(&response, "ETag"), tag, "{fields:?}");
        assert_eq!(response.into_bytes(), Some(page.clone()), "{fields:?}");
    }
}

/// Several instances behind one proxy must agree, or a revalidation that
/// lands on another one would always get the whole file.
#[test]
fn the_etag_is_the_same_for_the_same_bytes_and_changes_with_them() {
    let one = directory(&[("index.html", "one")]);
    let one_again = directory(&[("index.html", "one")]);
    let two = directory(&[("index.html", "two")]);
    let tag_of_one = etag_of(&client_serving(one.path()), "/");
    assert_eq!(etag_of(&client_serving(one_again.path()), "/"), tag_of_one);
    let client = client_serving(two.path());
    assert_ne!(etag_of(&client, "/"), tag_of_one);
    // A copy of the old bytes is not taken for the new ones.
    let response = conditional(&client, Method::Get, "/", &[&tag_of_one]);
    assert_eq!(response.status().code, 200);
    assert_eq!(response.into_string().as_deref(), Some("two"));
}

/// The directory's top-level files are served, hidden ones and
/// subdirectories are not; a file of unknown type is sent without a
/// `Content-Type` (RFC 9110 §8.3), as Rocket's `FileServer` did.
#[test]
fn top_level_files_are_served_and_hidden_files_and_subdirectories_are_not() {
    let dir = directory(&[("index.html", "page"), ("notes", "plain"), (".secret", "s")]);
    fs::create_dir(dir.path().join("sub")).expect("a subdirectory");
    fs::write(dir.path().join("sub/index.html"), "sub").expect("a file in it");
    fs::write(dir.path().join("sub/a.js"), "a").expect("a file in it");
    let client = client_serving(dir.path());
    let response = client.get("/notes").dispatch();
    assert_eq!(response.status().code, 200);
    assert_eq!(response.headers().get_one("Content-Type"), None);
    assert_eq!(response.into_string().as_deref(), Some("plain"));
    for uri in ["/.secret", "/sub", "/sub/", "/sub/index.html", "/sub/a.js"] {
        let response = client.get(uri).dispatch();
        assert_json_error(response, 404, NOT_FOUND);
    }
}

/// A directory holding `files`, each `(name, content)`.
fn directory(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("unauthorized-static-")
        .tempdir()
        .expect("a temporary directory");
    for (name, content) in files {
        fs::write(dir.path().join(name), content).expect("the file is written");
    }
    dir
}

/// The service as `cargo run` builds it, serving `dir`.
fn client_serving(dir: &Path) -> Client {
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    client_with(rocket_toml("debug").merge(("static_dir", dir)))
}

/// The `ETag` of a plain GET of `uri`, which must succeed.
fn etag_of(client: &Client, uri: &str) -> String {
    let response = client.get(uri).dispatch();
    assert_eq!(response.status().code, 200, "{uri}");
    let tag = header(&response, "ETag").to_owned();
    assert_strong(&tag);
    tag
}

/// `method uri` with one `If-None-Match` field for each of `fields`.
fn conditional<'c>(
    client: &'c Client,
    method: Method,
    uri: &str,
    fields: &[&str],
) -> LocalResponse<'c> {
    let mut request = client.req(method, uri.to_owned());
    for field in fields {
        request.add_header(Header::new("If-None-Match", field.to_string()));
    }
    request.dispatch()
}

/// A 304 as RFC 9110 §15.4.5 wants it: the validator and the caching
/// policy, no other representation metadata, no body.
fn assert_not_modified(response: LocalResponse<'_>, tag: &str, case: &str) {
    assert_eq!(response.status().code, 304, "{case}");
    assert_eq!(header(&response, "ETag"), tag, "{case}");
    assert_eq!(header(&response, "Cache-Control"), NO_CACHE, "{case}");
    assert_eq!(response.headers().get_one("Content-Type"), None, "{case}");
    assert_shield_and_no_server(&response);
    assert_eq!(response.into_bytes().unwrap_or_default(), b"", "{case}");
}

/// A strong entity-tag (RFC 9110 §8.8.3): no `W/`, then `"` *etagc `"`.
fn assert_strong(tag: &str) {
    let opaque = tag
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{tag:?} is not a quoted strong entity-tag"));
    assert!(
        opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80),
        "{tag:?} holds a character an entity-tag cannot"
    );
}
