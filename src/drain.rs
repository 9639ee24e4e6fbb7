//! The drain before stopping: on the first SIGTERM or SIGINT the service
//! keeps answering every request for `drain` seconds while `/readyz` says
//! 503, so that a load balancer or an orchestrator stops sending traffic
//! first; then it starts Rocket's graceful shutdown (grace, then mercy).
//!
//! Rocket's own signal handling is turned off ([`without_rockets_signals`]):
//! it would stop accepting at once, and its `on_shutdown` fairings run only
//! after the accept loop has ended.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rocket::figment::providers::Serialized;
use rocket::{Ignite, Rocket};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::logger;

/// The drain's length and whether it has begun; managed as Rocket state and
/// read by `/readyz`.
#[derive(Debug, Clone)]
pub struct Drain {
    period: Duration,
    draining: Arc<AtomicBool>,
}

impl Drain {
    /// A drain of `seconds`, not begun.
    pub fn new(seconds: u32) -> Drain {
        Drain {
            period: Duration::from_secs(seconds.into()),
            draining: Arc::default(),
        }
    }

    /// Whether a drain has begun: from then on, until the process exits.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

/// The configuration that turns Rocket's signal handling off, merged last
/// so that no `Rocket.toml` or `ROCKET_SHUTDOWN` brings it back.
pub fn without_rockets_signals() -> [Serialized<serde_json::Value>; 2] {
    [
        Serialized::global("shutdown.ctrlc", serde_json::Value::Bool(false)),
        Serialized::global("shutdown.signals", serde_json::json!([])),
    ]
}

/// Handles SIGTERM and SIGINT for `rocket`, from now until the process
/// exits: the first prints one line and begins the drain (with a drain of
/// 0, it prints the shutdown's line and shuts down at once), a second
/// during the drain ends it at once, and any later one changes nothing
/// (the handlers stay installed, so neither signal kills the process).
///
/// Call it inside the runtime, after ignition and before launch.
pub fn handle_signals(rocket: &Rocket<Ignite>) -> io::Result<()> {
    let drain = rocket
        .state::<Drain>()
        .cloned()
        .unwrap_or_else(|| Drain::new(0));
    let shutdown = rocket.shutdown();
    let config = &rocket.config().shutdown;
    let (grace, mercy) = (config.grace, config.mercy);
    let mut signals = Signals {
        term: signal(SignalKind::terminate())?,
        int: signal(SignalKind::interrupt())?,
    };
    tokio::spawn(async move {
        let first = signals.next().await;
        drain.draining.store(true, Ordering::Relaxed);
        let ended_by = if drain.period.is_zero() {
            // No drain to announce (behind open-source nginx, which never
            // reads /readyz): straight to the graceful shutdown, one line.
            first.to_owned()
        } else {
            let seconds = drain.period.as_secs();
            logger::print_line(&format!(
                "{first}: draining for {seconds} s, /readyz answers 503; \
                 a second SIGTERM or SIGINT ends the drain"
            ));
            tokio::select! {
                () = tokio::time::sleep(drain.period) => "drain over".to_owned(),
                second = signals.next() => format!("{second}: drain ended"),
            }
        };
        logger::print_line(&format!(
            "{ended_by}: shutting down, requests in flight have {grace} s of grace and {mercy} s of mercy"
        ));
        shutdown.notify();
    });
    Ok(())
}

struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// The next SIGTERM or SIGINT, by name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
