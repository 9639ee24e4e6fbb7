//! The page at `/` in headless Chromium from Debian's packages (`chromium`,
//! `chromium-driver`), driven through a chromedriver that each test starts on
//! a port of its own: what a person sees. Nothing is downloaded. The tests
//! are ignored unless asked for; asked to run without Chromium, they fail
//! with the one line that says what to install.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rocket::tokio::runtime::{self, Runtime};
use rocket::tokio::time::timeout;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::server::{
    INVALID_TOKEN, NO_CREDENTIALS, PATIENCE, Server, UNAUTHORIZED, UNAUTHORIZED_PROBLEM,
    retry_while_port_taken,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const NEEDS_CHROMIUM: &str = "needs Chromium: apt-get install chromium chromium-driver";

/// Headless, and quiet on a closed network: without the networking flags
/// Chromium stalls here, waiting for Google's services.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
];

/// What the page shows for a body it received empty.
const EMPTY: &str = "(empty)";

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn the_page_loads_with_no_script_error_and_no_request_leaving_its_origin() {
    let browser = Browser::open(Viewport::Desktop);
    browser.open_page();
    browser.send(&Choices::DEFAULT);
    let origin = browser.origin();

    // The console, but for the network's own report of the 401 asked for.
    let refused = format!(
        "{origin}example - Failed to load resource: \
         the server responded with a status of 401 (Unauthorized)"
    );
    let console: Vec<String> = browser
        .log("browser")
        .iter()
        .map(|entry| {
            format!(
                "{} {} {}",
                entry["level"], entry["source"], entry["message"]
            )
        })
        .filter(|line| *line != format!(r#""SEVERE" "network" "{refused}""#))
        .collect();
    assert_eq!(console, Vec::<String>::new());

    // Every request the page made: its own files and the 401; no CDN, no
    // font service, and no `/favicon.ico`, since the page names its icon.
    let mut requested = browser.requests_of_the_page();
    requested.sort();
    let expected: Vec<String> = ["", "app.js", "example", "icon.svg", "style.css"]
        .iter()
        .map(|path| format!("{origin}{path}"))
        .collect();
    assert_eq!(requested, expected);
}

/// The server listens on an ephemeral port, never 8080: the page names the
/// origin it was loaded from, by address and by name.
#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn the_curl_command_on_the_page_names_the_origin_that_served_it() {
    let browser = Browser::open(Viewport::Desktop);
    let port = browser.server.port();
    assert_ne!(port, "8080");
    for host in ["127.0.0.1", "localhost"] {
        let origin = format!("http://{host}:{port}");
        browser.open_page_at(&format!("{origin}/"));
        assert_eq!(
            browser.texts("pre.command"),
            [format!("curl -i -X POST {origin}/example")]
        );
    }
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn sending_a_request_shows_the_401_with_its_challenge_and_body() {
    let shown = Browser::open(Viewport::Desktop).answer_to(&Choices::DEFAULT);
    shown.assert_401(NO_CREDENTIALS, "application/json", UNAUTHORIZED);
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn a_bearer_token_typed_in_shows_the_invalid_token_challenge() {
    let shown = Browser::open(Viewport::Desktop).answer_to(&Choices {
        token: "abc123",
        ..Choices::DEFAULT
    });
    shown.assert_401(INVALID_TOKEN, "application/json", UNAUTHORIZED);
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn head_shows_the_headers_and_an_empty_body() {
    let shown = Browser::open(Viewport::Desktop).answer_to(&Choices {
        method: "HEAD",
        ..Choices::DEFAULT
    });
    shown.assert_401(NO_CREDENTIALS, "application/json", EMPTY);
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn asking_for_problem_details_shows_the_problem_json_body() {
    let shown = Browser::open(Viewport::Desktop).answer_to(&Choices {
        accept: "application/problem+json",
        ..Choices::DEFAULT
    });
    shown.assert_401(
        NO_CREDENTIALS,
        "application/problem+json",
        UNAUTHORIZED_PROBLEM,
    );
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn the_page_offers_the_methods_fetch_can_send_and_says_why_not_the_others() {
    let browser = Browser::open(Viewport::Desktop);
    browser.open_page();
    assert_eq!(
        browser.texts("select[name=method] option"),
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    );
    assert_eq!(
        browser.texts("#request > p.hint"),
        ["Browsers' fetch refuses TRACE and CONNECT; send those with curl."]
    );
}

#[test]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver"]
fn the_page_fits_a_desktop_and_a_phone_after_a_request() {
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let browser = Browser::open(viewport);
        let shown = browser.answer_to(&Choices::DEFAULT);
        assert_eq!(shown.status, "401 Unauthorized", "{viewport:?}");
        // Nothing sticks out sideways: a person never scrolls to the right.
        let widths = browser.run(
            "measure the page",
            browser.client().execute(
                "const root = document.documentElement;
                 return [root.scrollWidth, root.clientWidth];",
                vec![],
            ),
        );
        assert_eq!(widths[0], widths[1], "{viewport:?}: page and window widths");
        let path = browser.screenshot(viewport.name());
        eprintln!("{viewport:?}: {}", path.display());
    }
}

/// What a person picks on the page before pressing the button.
#[derive(Debug)]
struct Choices {
    method: &'static str,
    /// Typed into the token field; empty leaves it alone.
    token: &'static str,
    /// The value of the chosen body radio button.
    accept: &'static str,
}

impl Choices {
    /// The page as it loads: POST, no token, plain JSON.
    const DEFAULT: Choices = Choices {
        method: "POST",
        token: "",
        accept: "application/json",
    };
}

/// The response section as a person reads it.
#[derive(Debug)]
struct Shown {
    status: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Shown {
    /// The value shown for header `name`, which must be listed at most once.
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let value = values.next().map(|(_, value)| value.as_str());
        assert!(values.next().is_none(), "{name} twice in {self:#?}");
        value
    }

    /// Checks that the page shows the 401 with `challenge`, `content_type`
    /// and `body`.
    fn assert_401(&self, challenge: &str, content_type: &str, body: &str) {
        assert_eq!(self.status, "401 Unauthorized", "{self:#?}");
        assert_eq!(self.header("www-authenticate"), Some(challenge));
        assert_eq!(self.header("content-type"), Some(content_type));
        assert_eq!(self.body, body);
    }
}

/// The window the page is shown in.
#[derive(Clone, Copy, Debug)]
enum Viewport {
    /// A 1280 px wide desktop window.
    Desktop,
    /// A 390 px wide phone, through chromedriver's `mobileEmulation`:
    /// headless Chromium does not shrink a window below 500 px.
    Phone,
}

impl Viewport {
    /// The screenshot's name.
    fn name(self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Phone => "phone",
        }
    }

    fn chrome_options(self, profile: &Path) -> Value {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        match self {
            Viewport::Desktop => {
                args.push("--window-size=1280,900".to_owned());
                json!({ "binary": CHROMIUM, "args": args })
            }
            Viewport::Phone => json!({
                "binary": CHROMIUM,
                "args": args,
                "mobileEmulation": {
                    "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2, "mobile": true, "touch": true }
                }
            }),
        }
    }
}

/// A chromedriver on a port of its own. Dropping it kills the process, also
/// when a test fails.
struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:<port>`, from its "started successfully" line.
    url: String,
}

impl Chromedriver {
    /// With `--port=0`, chromedriver takes a port for one of IPv4 and IPv6,
    /// and gives up when the same port is taken on the other ("IPv4 port
    /// not available"), as can happen while other tests hold many loopback
    /// connections: then it is started again.
    fn start() -> Chromedriver {
        retry_while_port_taken("port not available", Chromedriver::try_start)
    }

    /// Starts chromedriver, or returns what it printed before it exited or
    /// fell silent.
    fn try_start() -> Result<Chromedriver, String> {
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let out = child.stdout.take().expect("stdout is piped");
        let (lines, printed) = mpsc::channel();
        // Reads stdout for the process's whole life: a full pipe stalls it.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut driver = Chromedriver {
            child,
            url: String::new(),
        };
        let mut seen = Vec::new();
        let port = loop {
            match printed.recv_timeout(PATIENCE) {
                Ok(line) => {
                    let port = line
                        .strip_prefix("ChromeDriver was started successfully on port ")
                        .and_then(|rest| rest.strip_suffix('.'))
                        .map(str::to_owned);
                    seen.push(line);
                    if let Some(port) = port {
                        break port;
                    }
                }
                Err(e) => return Err(format!("{e}: chromedriver printed {seen:#?}")),
            }
        };
        driver.url = format!("http://127.0.0.1:{port}");
        Ok(driver)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromedriver command on the current session that fantoccini does not
/// name: `POST /session/<id>/<path>` with a JSON body.
#[derive(Debug)]
struct SessionCommand {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session is open");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// Headless Chromium in a fresh profile, next to a server of its own.
/// Dropping it ends the session, stops chromedriver and removes the profile,
/// also when a test fails.
struct Browser {
    client: Option<Client>,
    runtime: Runtime,
    _driver: Chromedriver,
    _profile: TempDir,
    server: Server,
}

impl Browser {
    fn open(viewport: Viewport) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "{NEEDS_CHROMIUM}"
        );
        let server = Server::start("debug", &[]);
        let profile = tempfile::Builder::new()
            .prefix("unauthorized-chromium-")
            .tempdir()
            .expect("a temporary profile directory");
        let driver = Chromedriver::start();
        let runtime = runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let patience = PATIENCE.as_secs() * 1000;
        let capabilities: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": viewport.chrome_options(profile.path()),
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
            "timeouts": { "pageLoad": patience, "script": patience },
        }))
        .expect("capabilities are an object");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = in_time(&runtime, builder.connect(&driver.url))
            .expect("Chromium starts in time")
            .expect("chromedriver opens a session");
        Browser {
            client: Some(client),
            runtime,
            _driver: driver,
            _profile: profile,
            server,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Runs one WebDriver `step`, which must succeed in time.
    fn run<T>(&self, step: &str, command: impl Future<Output = Result<T, CmdError>>) -> T {
        match in_time(&self.runtime, command) {
            Some(Ok(value)) => value,
            Some(Err(e)) => panic!("{step}: {e}"),
            None => panic!("{step}: no answer within {PATIENCE:?}"),
        }
    }

    fn origin(&self) -> String {
        format!("http://{}/", self.server.address)
    }

    /// Loads the page at `/`.
    fn open_page(&self) {
        self.open_page_at(&self.origin());
    }

    /// Loads the page at `url`, one of the server's.
    fn open_page_at(&self, url: &str) {
        let client = self.client();
        self.run("load the page", client.goto(url));
        self.run(
            "find the form",
            client
                .wait()
                .at_most(PATIENCE)
                .for_element(Locator::Css("form#request")),
        );
    }

    fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.run(css, self.client().find(Locator::Css(css)))
    }

    /// Makes the `choices` on the loaded page, presses the button and waits
    /// for the response section.
    fn send(&self, choices: &Choices) {
        let select = self.find("select[name=method]");
        self.run("choose the method", select.select_by_label(choices.method));
        if !choices.token.is_empty() {
            let input = self.find("input[name=token]");
            self.run("type the token", input.send_keys(choices.token));
        }
        let radio = self.find(&format!("input[name=accept][value='{}']", choices.accept));
        self.run("choose the body", radio.click());
        self.run("press the button", self.find("button[type=submit]").click());
        self.run(
            "wait for the response",
            self.client()
                .wait()
                .at_most(PATIENCE)
                .for_element(Locator::Css("#response:not([hidden])")),
        );
    }

    /// Loads the page, makes the `choices`, sends them: what it shows.
    fn answer_to(&self, choices: &Choices) -> Shown {
        self.open_page();
        self.send(choices);
        self.shown()
    }

    /// The URL of every request the page (its documents) made so far, as the
    /// performance log records them.
    fn requests_of_the_page(&self) -> Vec<String> {
        let origin = self.origin();
        let mut urls = Vec::new();
        for entry in self.log("performance") {
            let text = entry["message"].as_str().expect("a message");
            let event: Value = serde_json::from_str(text).expect("a JSON event");
            let event = &event["message"];
            let params = &event["params"];
            let document = params["documentURL"].as_str().unwrap_or_default();
            if event["method"] == "Network.requestWillBeSent" && document.starts_with(&origin) {
                let url = params["request"]["url"].as_str().expect("a URL");
                urls.push(url.to_owned());
            }
        }
        urls
    }

    /// The texts of the elements that `css` selects.
    fn texts(&self, css: &str) -> Vec<String> {
        let elements = self.run(css, self.client().find_all(Locator::Css(css)));
        elements
            .iter()
            .map(|element| self.run(css, element.text()))
            .collect()
    }

    /// The response section as it reads.
    fn shown(&self) -> Shown {
        let names = self.texts("#headers dt");
        let values = self.texts("#headers dd");
        assert_eq!(names.len(), values.len(), "{names:?} {values:?}");
        Shown {
            status: self.run("read the status", self.find("#status").text()),
            headers: names.into_iter().zip(values).collect(),
            body: self.run("read the body", self.find("#body").text()),
        }
    }

    /// The entries of chromedriver's log `kind` (`browser`, `performance`)
    /// since the last call.
    fn log(&self, kind: &str) -> Vec<Value> {
        let command = SessionCommand {
            path: "se/log",
            body: json!({ "type": kind }),
        };
        let entries = self.run(kind, self.client().issue_cmd(command));
        match entries {
            Value::Array(entries) => entries,
            other => panic!("the {kind} log is not a list: {other}"),
        }
    }

    /// A screenshot of the whole page, written to
    /// `target/screenshots/<name>.png`: its path.
    fn screenshot(&self, name: &str) -> PathBuf {
        let size = self.run(
            "measure the page",
            self.client().execute(
                "const root = document.documentElement;
                 return [root.scrollWidth, root.scrollHeight];",
                vec![],
            ),
        );
        let command = SessionCommand {
            path: "goog/cdp/execute",
            body: json!({
                "cmd": "Page.captureScreenshot",
                "params": {
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1 }
                }
            }),
        };
        let shot = self.run("take a screenshot", self.client().issue_cmd(command));
        let data = shot["data"].as_str().expect("base64 PNG data");
        let png = STANDARD.decode(data).expect("valid base64");
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target/tmp is in target/");
        let directory = target.join("screenshots");
        std::fs::create_dir_all(&directory).expect("target/screenshots/ exists");
        let path = directory.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = in_time(&self.runtime, client.close());
        }
    }
}

/// Runs `future` to its end on `runtime`, unless it takes longer than
/// [`PATIENCE`].
fn in_time<F: Future>(runtime: &Runtime, future: F) -> Option<F::Output> {
    runtime.block_on(async { timeout(PATIENCE, future).await.ok() })
}
