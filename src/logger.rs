//! The service's log, installed before the rocket is built so that Rocket
//! keeps it (Rocket sets its own logger only when none is set).
//!
//! Every line goes to stdout through one bounded queue and a thread of its
//! own: a request or a signal never waits for stdout. The thread writes as
//! fast as stdout takes lines, so the queue fills only when stdout cannot
//! keep up. When it is full (stdout blocked or too slow) or stdout is closed
//! (`| head -1`), the line is dropped and counted ([`dropped_lines`],
//! exported as a metric), never a panic.
//! `tracing-appender`'s non-blocking writer does most of this, but counts no
//! failed write and, at exit with a full queue, prints with `println!`,
//! which blocks on a full stdout or panics on a closed one.
//!
//! Lines are JSON, one event a line ([`JsonLine`]): the access line of
//! [`crate::access`], and Rocket's launch messages, one record a line.
//! Rocket's records about requests are dropped: they carry the request line
//! with its query (`GET /example?access_token=…` at `normal`) and, at
//! `debug`, the whole request with its `Authorization` header (RFC 6750
//! §5.3: tokens must not be logged).

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use rocket::config::LogLevel;
use serde::Serializer;
use serde::ser::SerializeMap;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::{AsTrace, LogTracer, NormalizeEvent};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// Bytes of lines waiting for stdout at most (about 30,000 access lines):
/// counted in bytes, since a client chooses how long its path is.
const QUEUE_BYTES: usize = 4 << 20;

/// The modules of Rocket whose records describe a request (`rocket::server`
/// logs the request line with its query, and the whole request at
/// `debug`; `rocket::request` logs a URI it cannot parse). Each request is
/// logged once, by the access line, instead.
const REQUEST_MODULES: [&str; 6] = [
    "rocket::server",
    "rocket::request",
    "rocket::response",
    "rocket::data",
    "rocket::form",
    "rocket::fs",
];

/// The field that marks an event carrying a `log` record (Rocket's), added
/// by the `log` bridge. The log shows those, already filtered by
/// [`REQUEST_MODULES`], and the access lines ([`ACCESS`]); it leaves out
/// the events of the `tracing` in hyper and h2, which at `debug` describe
/// every frame of every request.
const LOG_RECORD: &str = "log.target";

/// The target of the access line ([`crate::access`]).
pub(crate) const ACCESS: &str = "access";

static QUEUE: OnceLock<Sender<Message>> = OnceLock::new();
static QUEUED_BYTES: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

enum Message {
    Line(Vec<u8>),
    /// Answered once every line queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// Installs the service's log at `level` (Rocket's `log_level`): `normal`
/// shows launch messages and one line per request, `critical` only
/// warnings and errors, `off` nothing. A second call changes nothing.
pub fn install(level: LogLevel) {
    if QUEUE.get().is_some() {
        return;
    }
    let (sender, receiver) = mpsc::channel();
    if QUEUE.set(sender).is_err() {
        return;
    }
    // Without its thread every line is dropped and counted; the log is
    // installed all the same, so that Rocket's own logger never is.
    let _ = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_lines(receiver));
    // Rocket's mapping: `critical` is warnings and errors, `normal` info.
    let max = tracing_log::log::LevelFilter::from(level);
    let subscriber = tracing_subscriber::fmt()
        .event_format(JsonLine)
        .with_max_level(max.as_trace())
        .with_writer(Stdout)
        .finish()
        .with(
            filter_fn(|metadata| {
                metadata.target() == ACCESS || metadata.fields().field(LOG_RECORD).is_some()
            })
            // Events above the level are never asked about: the filter
            // costs nothing at `off` and `normal`.
            .with_max_level_hint(max.as_trace()),
        );
    // Both fail only when a logger is already set: then that one logs.
    let _ = tracing::subscriber::set_global_default(subscriber);
    let _ = LogTracer::builder()
        .with_max_level(max)
        .ignore_all(REQUEST_MODULES)
        .init();
}

/// Prints `line` as it is, plain text and whatever the log level: the
/// service's own lines for operators and scripts (`listening on …`, the
/// drain). Queued behind the log lines before it; with no log installed
/// (Rocket's local client), written at once, and skipped if stdout fails.
pub fn print_line(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    match QUEUE.get() {
        Some(_) => queue(bytes),
        None => {
            let _ = io::stdout().write_all(&bytes);
        }
    }
}

/// Lines dropped because stdout was closed, failed, or too slow to take
/// them.
pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Waits up to `patience` for the queued lines to be written: at exit, so
/// that the last lines are not lost, and never longer, so that a blocked
/// stdout cannot hold the process.
pub fn flush(patience: Duration) {
    let Some(sender) = QUEUE.get() else {
        return;
    };
    let (done, written) = mpsc::channel();
    if sender.send(Message::Flush(done)).is_ok() {
        let _ = written.recv_timeout(patience);
    }
}

fn queue(line: Vec<u8>) {
    let length = line.len();
    let Some(sender) = QUEUE.get() else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let queued = QUEUED_BYTES.fetch_add(length, Ordering::Relaxed);
    if queued + length > QUEUE_BYTES || sender.send(Message::Line(line)).is_err() {
        QUEUED_BYTES.fetch_sub(length, Ordering::Relaxed);
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Bytes the log thread writes at once at most, when lines wait.
const BATCH: usize = 64 * 1024;

/// How long the log thread rests once it has written every waiting line,
/// so that under load it writes the lines of this long in one batch instead
/// of being woken for each: a line waits this long at most. Measured
/// (BENCHMARKS.md): a wake-up per line doubled the CPU per request. It
/// never rests while lines wait: then only stdout sets the pace, and lines
/// are dropped only when stdout cannot take them as fast as they come.
const REST: Duration = Duration::from_millis(10);

/// The log thread: writes the waiting lines to stdout, a batch at a time,
/// and counts those of a batch that fails. It writes to its own handle on
/// stdout, without `std`'s line buffer, which on a closed stdout keeps some
/// lines and reports no error.
fn write_lines(receiver: Receiver<Message>) {
    let Ok(stdout) = io::stdout().as_fd().try_clone_to_owned() else {
        // No stdout to write to: every line is dropped.
        for message in receiver {
            if let Message::Line(line) = message {
                QUEUED_BYTES.fetch_sub(line.len(), Ordering::Relaxed);
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        return;
    };
    let mut stdout = File::from(stdout);
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushed = Vec::new();
    while let Ok(first) = receiver.recv() {
        let mut lines = 0;
        let mut next = Some(first);
        // Whether the queue was found empty: otherwise the batch is full
        // and more lines may wait.
        let mut emptied = false;
        while let Some(message) = next.take() {
            match message {
                Message::Line(line) => {
                    QUEUED_BYTES.fetch_sub(line.len(), Ordering::Relaxed);
                    batch.extend_from_slice(&line);
                    lines += 1;
                }
                Message::Flush(done) => flushed.push(done),
            }
            if batch.len() < BATCH {
                next = receiver.try_recv().ok();
                emptied = next.is_none();
            }
        }
        if !batch.is_empty() && stdout.write_all(&batch).is_err() {
            DROPPED.fetch_add(lines, Ordering::Relaxed);
        }
        batch.clear();
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
        if emptied {
            std::thread::sleep(REST);
        }
    }
}

/// What `tracing-subscriber` writes each formatted line to: the queue.
struct Stdout;

impl Write for Stdout {
    /// One call per line: the formatter writes each event whole.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        queue(line.to_vec());
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = Stdout;

    fn make_writer(&'a self) -> Stdout {
        Stdout
    }
}

/// One event as one JSON object on one line: `timestamp` (RFC 3339, UTC),
/// `level`, `target`, then the event's fields in order (`message` for
/// Rocket's records). `tracing-subscriber`'s own JSON format would add the
/// `log.file`, `log.line`, … fields of every record that comes from `log`.
struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);

        let mut line = Vec::with_capacity(256);
        let mut json = serde_json::Serializer::new(&mut line);
        let mut map = json.serialize_map(None).map_err(|_| fmt::Error)?;
        // Rocket logs its launch messages as warnings so that `critical`
        // shows them, and prints them as information: so does this line.
        let level = match metadata.target().starts_with("rocket::launch") {
            true => tracing::Level::INFO,
            false => *metadata.level(),
        };
        let head = [
            ("timestamp", timestamp.as_str()),
            ("level", level.as_str()),
            ("target", metadata.target()),
        ];
        for (key, value) in head {
            map.serialize_entry(key, value).map_err(|_| fmt::Error)?;
        }
        for (key, value) in &fields.0 {
            map.serialize_entry(key, value).map_err(|_| fmt::Error)?;
        }
        map.end().map_err(|_| fmt::Error)?;
        let line = std::str::from_utf8(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// An event's fields as JSON values, but the `log.*` ones that the `log`
/// bridge adds.
struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        if !field.name().starts_with("log.") {
            self.0.push((field.name(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::from(value));
    }
}
