//! `/` serves the page; the files beside it are served at the root.

use std::fs;

use rocket::http::Method;

use crate::helpers::{NOT_FOUND, assert_json_error, assert_shield_and_no_server, client, header};

const HTML: &str = "text/html; charset=utf-8";

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
