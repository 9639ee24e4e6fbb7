//! The service's binary: installs the log, builds the rocket, handles the
//! signals, serves, and turns every way that can fail into one line on
//! stderr and a non-zero exit.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use rocket::Config;
use rocket::config::LogLevel;
use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;

/// How long the exit waits for the log's last lines to reach stdout.
const LOG_FLUSH: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let figment = unauthorized::figment();
    // Before the rocket is built: Rocket keeps a logger that was set first.
    // A bad level is reported by `custom` below, in one line.
    let level = figment.extract_inner::<LogLevel>("log_level");
    unauthorized::install_log(level.unwrap_or(LogLevel::Off));
    // Built before the runtime: `#[rocket::main]` reads the configuration
    // itself first, and panics on a malformed one.
    let rocket = match unauthorized::custom(figment) {
        Ok(rocket) => rocket.attach(listening_line()),
        Err(error) => return fail(error),
    };
    let exit = rocket::execute(async move {
        let rocket = match rocket.ignite().await {
            Ok(rocket) => rocket,
            Err(error) => return fail(error),
        };
        if let Err(error) = unauthorized::handle_signals(&rocket) {
            return fail(format!("cannot handle SIGTERM and SIGINT: {error}"));
        }
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
    });
    unauthorized::flush_log(LOG_FLUSH);
    exit
}

/// One line for operators and scripts, in every profile and whatever the log
/// level: `listening on http://127.0.0.1:8080`. It is attached here, not in
/// `rocket()`, because Rocket's local test client runs liftoff fairings too
/// and would print it without a socket.
fn listening_line() -> AdHoc {
    AdHoc::on_liftoff("Listening line", |rocket| {
        Box::pin(async move {
            let line = format!("listening on http://{}", address(rocket.config()));
            unauthorized::print_line(&line);
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
