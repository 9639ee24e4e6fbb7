//! `deploy/render-nginx`, the script that writes the nginx configuration of
//! deploy/README.md, refusing bad options. It needs bash alone, so it runs
//! with a plain `cargo test`; the configurations it writes are tested with
//! nginx in `e2e-tools/tests/tools/nginx.rs`.

use std::process::Command;

const RENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/render-nginx");

/// A bad option stops the renderer with one line and exit 2, before it
/// prints anything: never half a configuration.
#[test]
fn render_nginx_refuses_a_bad_option_with_one_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pem = dir.path().join("x.pem");
    std::fs::write(&pem, "").expect("a file");
    let pem = pem.to_str().expect("a UTF-8 path");
    let files = ["--cert", pem, "--key", pem];
    let cases: [(&[&str], &str); 10] = [
        (&["--bogus"], "unknown option --bogus (see --help)"),
        (
            &[&files[..], &["--max-body", "1g", "h:1"]].concat(),
            "--max-body: '1g' is not a size of at least 1 such as 64k or 1m",
        ),
        (&[], "--cert is missing (see --help)"),
        (
            &["--cert", "/nowhere", "--key", pem, "127.0.0.1:8001"],
            "--cert: no such file: /nowhere",
        ),
        (
            &[&files[..], &[]].concat(),
            "no instance given: name one or more HOST:PORT (see --help)",
        ),
        (
            &[&files[..], &["127.0.0.1"]].concat(),
            "instance '127.0.0.1' is not HOST:PORT with a port from 1 to 65535",
        ),
        (
            &[&files[..], &["a;b:1"]].concat(),
            "instance 'a;b:1' is not HOST:PORT with a port from 1 to 65535",
        ),
        (
            &[&files[..], &["--listen", "0", "h:1"]].concat(),
            "--listen: '0' is not [ADDR:]PORT with a port from 1 to 65535",
        ),
        (
            &[&files[..], &["--per-client", "0", "h:1"]].concat(),
            "--per-client: '0' is not a whole number of at least 1",
        ),
        (
            &[&files[..], &["--body-timeout", "ten", "h:1"]].concat(),
            "--body-timeout: 'ten' is not a time such as 500ms, 10s or 2m",
        ),
    ];
    for (args, line) in cases {
        let output = Command::new(RENDER)
            .args(args)
            .output()
            .expect("bash runs it");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(output.stdout, b"", "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr, format!("render-nginx: {line}\n"), "{args:?}");
    }
}
