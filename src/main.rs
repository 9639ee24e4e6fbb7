//! The service's binary: builds the rocket, serves it, and turns every way
//! that can fail into one line on stderr and a non-zero exit.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use rocket::Config;
use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;

fn main() -> ExitCode {
    // Built before the runtime: `#[rocket::main]` reads the configuration
    // itself first, and panics on a malformed one.
    let rocket = match unauthorized::rocket() {
        Ok(rocket) => rocket.attach(listening_line()),
        Err(error) => return fail(error),
    };
    rocket::execute(async move {
        let rocket = match rocket.ignite().await {
            Ok(rocket) => rocket,
            Err(error) => return fail(error),
        };
        let address = address(rocket.config());
        match rocket.launch().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => match error.kind() {
                ErrorKind::Bind(e) => fail(format!("cannot listen on {address}: {e}")),
                ErrorKind::Shutdown(..) => fail(
                    "shutdown: connections were still open after the grace period and were dropped",
                ),
                other => fail(other),
            },
        }
    })
}

/// One line for operators and scripts, in every profile and whatever the log
/// level: `listening on http://127.0.0.1:8080`. It is attached here, not in
/// `rocket()`, because Rocket's local test client runs liftoff fairings too
/// and would print it without a socket.
fn listening_line() -> AdHoc {
    AdHoc::on_liftoff("Listening line", |rocket| {
        Box::pin(async move {
            // Like Rocket's own log, a closed stdout (`| head -1`) must not
            // stop the server: `println!` would panic.
            let line = format!("listening on http://{}\n", address(rocket.config()));
            let _ = std::io::stdout().write_all(line.as_bytes());
        })
    })
}

fn address(config: &Config) -> SocketAddr {
    SocketAddr::new(config.address, config.port)
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
