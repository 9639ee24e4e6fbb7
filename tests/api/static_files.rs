//! `/` serves the page; the files beside it are served at the root.

use std::fs;

use rocket::http::Method;

use crate::helpers::{assert_json_error, assert_shield_and_no_server, client, header};

#[test]
fn the_root_serves_the_page() {
    let client = client();
    let response = client.get("/").dispatch();
    assert_eq!(response.status().code, 200);
    assert_eq!(
        header(&response, "Content-Type"),
        "text/html; charset=utf-8"
    );
    assert_shield_and_no_server(&response);
    let page = fs::read("static/index.html").expect("static/index.html exists");
    assert_eq!(response.into_bytes(), Some(page));
}

#[test]
fn the_files_beside_the_page_are_served_at_the_root() {
    let client = client();
    for (uri, file, content_type) in [
        ("/app.js", "static/app.js", "text/javascript"),
        ("/style.css", "static/style.css", "text/css; charset=utf-8"),
        ("/icon.svg", "static/icon.svg", "image/svg+xml"),
        (
            "/index.html",
            "static/index.html",
            "text/html; charset=utf-8",
        ),
    ] {
        let response = client.get(uri).dispatch();
        assert_eq!(response.status().code, 200, "{uri}");
        assert_eq!(header(&response, "Content-Type"), content_type, "{uri}");
        let expected = fs::read(file).expect("the file exists");
        assert_eq!(response.into_bytes(), Some(expected), "{uri}");
    }
}

#[test]
fn the_page_uses_only_files_that_exist() {
    let page = fs::read_to_string("static/index.html").expect("static/index.html exists");
    for reference in ["/icon.svg", "/style.css", "/app.js"] {
        assert!(page.contains(&format!("\"{reference}\"")), "{reference}");
        assert_eq!(
            client().get(reference).dispatch().status().code,
            200,
            "{reference}"
        );
    }
}

#[test]
fn a_missing_static_file_is_a_json_404() {
    let client = client();
    for uri in ["/missing.js", "/static/index.html", "/.hidden", "/app.js/x"] {
        let response = client.get(uri).dispatch();
        assert_json_error(response, 404, r#"{"message":"Not Found"}"#);
    }
}

#[test]
fn methods_other_than_get_and_head_on_static_files_are_a_json_404() {
    let client = client();
    for method in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
        for uri in ["/", "/app.js"] {
            let response = client.req(method, uri).dispatch();
            assert_json_error(response, 404, r#"{"message":"Not Found"}"#);
        }
    }
}

#[test]
fn head_on_the_page_has_no_body() {
    let client = client();
    let response = client.head("/").dispatch();
    assert_eq!(response.status().code, 200);
    assert_eq!(
        header(&response, "Content-Type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(response.into_bytes(), Some(vec![]));
}
