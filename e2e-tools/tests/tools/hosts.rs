//! deploy/README.md's "Beyond one machine", for real, and its rolling
//! upgrade: a client, nginx, two instances and a monitoring host, each a
//! network namespace of its own, joined by veth pairs to a bridge in a
//! namespace of its own, with
//! addresses from 198.18.0.0/15 (RFC 2544's benchmarking range) and an nft
//! firewall on each instance host that lets in the nginx host and the
//! monitoring host alone.
//!
//! No packet may leave these namespaces: a packet to a test address sent
//! from the root namespace would follow its default route off the machine.
//! So the root namespace gets no address, route or interface of the test's;
//! the test process never opens a socket to a test address itself (every
//! probe, load and server runs through `ip netns exec`); no test namespace
//! has a default route, checked before any traffic; and for the whole run an
//! nft table of the test's in the root namespace drops and counts every
//! packet to 198.18.0.0/15, and the test fails if its counter moved.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tempfile::TempDir;

use crate::nginx::{attempted_on, retried, served_by};
use crate::proxy::{
    TEST_SETTINGS, make_certificate, make_prefix, nginx_failed, nginx_program, reload, render, run,
    spawn_nginx, stop, through_nginx,
};
use crate::scrape::{MISSING, read_scrape};
use crate::server::{
    Answer, NO_CREDENTIALS, PATIENCE, Server, command, program, signal, wait_until,
};

/// A server started from `program` (a build: [`program`], or a copy of
/// it), inside network namespace `netns`: `ip netns exec` becomes the
/// binary, so the server's process id is the binary's.
fn start_in_netns(netns: &str, program: &str, profile: &str, vars: &[(&str, &str)]) -> Server {
    let mut command = command("ip", vars);
    command
        .env("ROCKET_PROFILE", profile)
        .args(["netns", "exec", netns, program]);
    Server::spawn(command)
}

/// A host: the last part of its namespace's name, and its address.
#[derive(Clone, Copy)]
struct Host {
    name: &'static str,
    address: &'static str,
}

const CLIENT: Host = Host {
    name: "client",
    address: "198.18.0.10",
};
const NGINX: Host = Host {
    name: "nginx",
    address: "198.18.0.20",
};
const INSTANCES: [Host; 2] = [
    Host {
        name: "app1",
        address: "198.18.0.31",
    },
    Host {
        name: "app2",
        address: "198.18.0.32",
    },
];
const MONITORING: Host = Host {
    name: "monitoring",
    address: "198.18.0.40",
};
const HOSTS: [Host; 5] = [CLIENT, NGINX, INSTANCES[0], INSTANCES[1], MONITORING];

/// Every address of the test is in here, and only ever inside its
/// namespaces.
const TEST_RANGE: &str = "198.18.0.0/15";
/// The hosts' network: a connected route, and no other.
const PREFIX_LENGTH: &str = "24";
/// Where each instance listens, on its host's own address.
const PORT: &str = "8001";
/// Test namespaces are `uah-PID-HOST` and the root namespace's nft table
/// `uah_PID`, PID the test process's: a run removes those of runs that are
/// gone, and never another live run's.
const NAME: &str = "uah";
/// How long an instance host's link stays down.
const LINK_DOWN: Duration = Duration::from_secs(4);
/// The series that says when an instance's process started.
const START_TIME: &str = "process_start_time_seconds";

/// An instance's settings on `host`, as the systemd unit of deploy/README.md
/// gives them there: the host's own address, and no drain behind nginx.
fn vars(host: &Host) -> [(&'static str, &'static str); 3] {
    [
        ("ROCKET_ADDRESS", host.address),
        ("ROCKET_PORT", PORT),
        ("ROCKET_DRAIN", "0"),
    ]
}

/// Now, in seconds since the Unix epoch, as `process_start_time_seconds`.
fn unix_time() -> f64 {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    now.expect("a clock after 1970").as_secs_f64()
}

/// The firewall of an instance host, as deploy/README.md gives it: the
/// service port from the nginx host and the monitoring host, and a TCP
/// reset for every other TCP connection.
fn instance_firewall(nginx: &str, monitoring: &str) -> String {
    format!(
        "table inet unauthorized {{
    chain input {{
        type filter hook input priority filter; policy accept;
        iif \"lo\" accept
        tcp dport {PORT} ip saddr {{ {nginx}, {monitoring} }} accept
        meta l4proto tcp reject with tcp reset
    }}
}}
"
    )
}

#[test]
#[ignore = "needs root, ip netns (iproute2), nft (nftables) and nginx"]
fn a_proxy_and_two_instances_on_hosts_of_their_own_lose_no_request() {
    let started = Instant::now();
    require_root_and_tools();
    let trap = LeakTrap::set();
    let network = Network::create();
    network.assert_isolated();
    for instance in INSTANCES {
        let rules = instance_firewall(NGINX.address, MONITORING.address);
        nft(network.exec(instance, "nft"), &rules);
    }
    let mut instances: Vec<Option<Server>> = INSTANCES
        .iter()
        .map(|host| {
            let netns = network.netns(*host);
            Some(start_in_netns(&netns, &program(), "release", &vars(host)))
        })
        .collect();
    let upstreams: Vec<String> = INSTANCES
        .iter()
        .map(|host| format!("{}:{PORT}", host.address))
        .collect();
    for (instance, upstream) in instances.iter().flatten().zip(&upstreams) {
        assert_eq!(&instance.address, upstream, "each binds its host's address");
    }
    let front = Front::start(&network, &upstreams);

    // The contract's 401 through nginx over TLS, from the client host,
    // answered by both instances; and each instance's metrics, scraped by
    // the monitoring host, count exactly the requests the access log gives
    // it.
    let answer = Answer::parse(&run(&mut front.curl(&network, &["-i"], "/example")));
    through_nginx(answer).assert_unauthorized(NO_CREDENTIALS);
    const REQUESTS: usize = 40;
    let mut load = Load::start(&network, &front, &[], REQUESTS);
    load.wait_for(REQUESTS);
    load.finish().assert_no_failure();
    let log = front.wait_for_access_log(REQUESTS + 1);
    let mut shares = Vec::new();
    for (instance, upstream) in INSTANCES.iter().zip(&upstreams) {
        let served = log
            .lines()
            .filter(|line| served_by(line) == Some(upstream))
            .count();
        assert!(served >= REQUESTS / 4, "{upstream} served few of:\n{log}");
        let scrape = read_scrape(network.get(MONITORING, instance, "/metrics"));
        assert_eq!(scrape.value(MISSING), served as f64, "{scrape:#?}");
        shares.push(format!("{served} by {upstream}"));
    }
    eprintln!(
        "through nginx over TLS from the client host: {} requests, {}; each instance's \
         /metrics, scraped from the monitoring host, counts its own",
        REQUESTS + 1,
        shares.join(", ")
    );

    // The firewall: the client host's connection to an instance is reset;
    // the nginx host's and the monitoring host's are accepted. The
    // operational endpoints answer the monitoring host, and are the JSON
    // 404 through nginx.
    for instance in INSTANCES {
        let url = format!("http://{}:{PORT}/example", instance.address);
        let direct = network
            .curl(CLIENT, &["--connect-timeout", "5", &url])
            .output()
            .expect("curl runs");
        // curl's 7 is a refused connection, a reset answering its SYN (a
        // dropped SYN would be 28, a timeout).
        assert_eq!(
            direct.status.code(),
            Some(7),
            "the client host's connection to {url} was not reset: {direct:?}"
        );
        network
            .get(NGINX, &instance, "/example")
            .assert_unauthorized(NO_CREDENTIALS);
        let ready = network.get(MONITORING, &instance, "/readyz");
        assert_eq!(ready.status_line, "HTTP/1.1 200 OK", "{ready:#?}");
        assert_eq!(ready.body, r#"{"status":"ready"}"#);
    }
    for path in ["/metrics", "/readyz", "/healthz"] {
        let hidden = through_nginx(Answer::parse(&run(&mut front.curl(
            &network,
            &["-i"],
            path,
        ))));
        assert_eq!(hidden.status_line, "HTTP/2 404 ", "{path}: {hidden:#?}");
        assert_eq!(hidden.body, r#"{"message":"Not Found"}"#, "{path}");
    }
    eprintln!("firewall: the client host's connections reset, nginx's and monitoring's accepted");

    // The second instance host's link goes down under a load of GETs for
    // a few fail_timeouts, so that nginx tries it again in vain, and comes
    // back.
    let log_start = front.access_log().len();
    let mut load = Load::start(&network, &front, &[], Load::MAX);
    load.wait_for(300);
    network.set_link(INSTANCES[1], "down");
    let down = Instant::now();
    let at_down = load.answered();
    load.wait_for(at_down + 600);
    std::thread::sleep(LINK_DOWN.saturating_sub(down.elapsed()));
    network.set_link(INSTANCES[1], "up");
    let log_at_up = front.access_log().len();
    let up = Instant::now();
    wait_until(
        || {
            front.access_log()[log_at_up..]
                .lines()
                .any(|line| served_by(line) == Some(&upstreams[1]))
        },
        || "the instance host got no traffic again".to_owned(),
    );
    let back = up.elapsed();
    let at_back = load.answered();
    load.wait_for(at_back + 300);
    let report = load.finish();
    report.assert_no_failure();
    let felt = report.slow.iter().map(|at| at.duration_since(down)).max();
    let felt = felt.unwrap_or_default();
    eprintln!(
        "link down for {LINK_DOWN:?} under GETs: {}, {} retried on the other instance; the \
         loss felt until {felt:?} after the link went down; served again {back:?} after it came \
         back (instance timeout 2 s, fail_timeout 1 s)",
        report.summary(),
        retried(&front.access_log()[log_start..]),
    );

    // A rolling upgrade, as deploy/README.md gives it, under a steady load
    // of GETs and of POSTs from the client host: each instance in turn is
    // taken out of nginx (render, reload, nginx's old workers gone), stopped
    // with SIGTERM, replaced by the new build (the binary copied to a new
    // release's path), started, checked from the monitoring host, and put
    // back into nginx.
    let releases = tempfile::tempdir().expect("a directory for the new release");
    let new_build = releases.path().join("v2").join("unauthorized");
    std::fs::create_dir_all(releases.path().join("v2")).expect("the release's directory");
    std::fs::copy(program(), &new_build).expect("the new build is installed");
    let new_build = new_build.to_str().expect("a UTF-8 path").to_owned();
    let log_start = front.access_log().len();
    let mut gets = Load::start(&network, &front, &[], Load::MAX);
    let mut posts = Load::start(&network, &front, &["-d", "a=b"], Load::MAX);
    gets.wait_for(100);
    posts.wait_for(100);
    // Where the access log stood when each new build started: every line
    // after it that names the instance is the new build's.
    let mut new_since = [0; 2];
    let mut steps = Vec::new();
    for (index, host) in INSTANCES.iter().enumerate() {
        let old_start = read_scrape(network.get(MONITORING, host, "/metrics")).value(START_TIME);
        let others: Vec<String> = upstreams
            .iter()
            .filter(|upstream| **upstream != upstreams[index])
            .cloned()
            .collect();
        let began = Instant::now();
        front.reload_with(&others);
        let out = began.elapsed();
        let old = instances[index].take().expect("the instance runs");
        old.signal("TERM");
        let signalled = Instant::now();
        let (status, stderr) = old.wait_for_exit();
        let stopped = signalled.elapsed();
        assert!(status.success() && stderr.is_empty(), "{status}: {stderr}");
        new_since[index] = front.access_log().len();
        let spawned_at = unix_time();
        let new = start_in_netns(&network.netns(*host), &new_build, "release", &vars(host));
        let listening = signalled.elapsed();
        let exe = std::fs::read_link(format!("/proc/{}/exe", new.pid())).expect("its binary");
        assert_eq!(exe.to_str(), Some(new_build.as_str()), "the new build runs");
        instances[index] = Some(new);
        let new_start = read_scrape(network.get(MONITORING, host, "/metrics")).value(START_TIME);
        assert!(
            old_start < spawned_at && new_start >= spawned_at.floor(),
            "process_start_time_seconds {old_start} before, {new_start} after a start at {spawned_at}"
        );
        let ready = network.get(MONITORING, host, "/readyz");
        assert_eq!(ready.status_line, "HTTP/1.1 200 OK", "{ready:#?}");
        let put_back = Instant::now();
        front.reload_with(&upstreams);
        wait_until(
            || {
                front.access_log()[new_since[index]..]
                    .lines()
                    .any(|line| served_by(line) == Some(&upstreams[index]))
            },
            || format!("the new build on {} got no traffic", upstreams[index]),
        );
        let serving = put_back.elapsed();
        steps.push(format!(
            "{}: out of nginx in {out:?} (reload, old workers gone), stopped {stopped:?} after \
             SIGTERM (exit 0), the new build listening {listening:?} after it, start time \
             {old_start:.3} -> {new_start:.3}, serving {serving:?} after it was put back",
            host.name
        ));
        let (at_gets, at_posts) = (gets.answered(), posts.answered());
        gets.wait_for(at_gets + 100);
        posts.wait_for(at_posts + 100);
    }
    let (gets, posts) = (gets.finish(), posts.finish());
    gets.assert_no_failure();
    posts.assert_no_failure();
    // Each new build's /metrics, from the monitoring host, counts exactly
    // the requests the access log sent it: those it answered, and those it
    // answered too late for nginx, which retried them on the other one (on
    // a loaded machine a few do; the instance was never stopped while in
    // nginx, so every attempt the log names reached it).
    for (index, host) in INSTANCES.iter().enumerate() {
        let counted = read_scrape(network.get(MONITORING, host, "/metrics")).value(MISSING);
        wait_until(
            || {
                let sent = front.access_log()[new_since[index]..]
                    .lines()
                    .filter(|line| attempted_on(line).any(|upstream| upstream == upstreams[index]))
                    .count();
                sent as f64 == counted
            },
            || {
                format!(
                    "{}'s new build counted {counted}, not its log lines",
                    host.name
                )
            },
        );
    }
    eprintln!(
        "rolling upgrade under GETs ({}) and POSTs ({}); {} retried\n  {}",
        gets.summary(),
        posts.summary(),
        retried(&front.access_log()[log_start..]),
        steps.join("\n  ")
    );
    drop(front);
    drop(instances);
    drop(network);
    assert_eq!(
        trap.packets(),
        0,
        "packets to {TEST_RANGE} left the namespaces"
    );
    eprintln!(
        "no packet left the namespaces; the test took {:?}",
        started.elapsed()
    );
}

/// Fails with one line, saying what to install, without root, `ip`, `nft`,
/// curl or nginx.
fn require_root_and_tools() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next());
    assert!(
        uid == Some("0"),
        "needs root: network namespaces and nft need it (run as root, as CI does)"
    );
    for (program, install) in [
        ("ip", "needs ip: apt-get install iproute2"),
        ("nft", "needs nft: apt-get install nftables"),
        ("curl", "needs curl: apt-get install curl"),
    ] {
        let found = Command::new(program).arg("--version").output().is_ok();
        assert!(found, "{install}");
    }
    nginx_program();
}

/// Runs `ip ARGS` to success.
fn ip(args: &[&str]) -> String {
    run(Command::new("ip").args(args))
}

/// Has `nft` (the program, or `ip netns exec NS nft`) load `rules`.
fn nft(mut nft: Command, rules: &str) {
    let mut child = nft
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nft runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(rules.as_bytes())
        .expect("nft reads the rules");
    let output = child.wait_with_output().expect("nft ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "nft: {stderr}\n{rules}");
}

/// Whether the test process that named a namespace or table `NAME-PID…` is
/// gone.
fn is_stale(name: &str, separator: char) -> bool {
    let pid = name
        .strip_prefix(NAME)
        .and_then(|rest| rest.strip_prefix(separator))
        .and_then(|rest| rest.split(separator).next());
    pid.is_some_and(|pid| {
        pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
}

/// The nft table in the root namespace that drops and counts every packet
/// to [`TEST_RANGE`], sent from or routed through the root namespace.
/// Dropping it removes the table.
struct LeakTrap {
    table: String,
}

impl LeakTrap {
    fn set() -> LeakTrap {
        let tables = run(Command::new("nft").args(["list", "tables"]));
        for table in tables
            .lines()
            .filter_map(|line| line.strip_prefix("table ip "))
        {
            if is_stale(table, '_') {
                let _ = Command::new("nft")
                    .args(["delete", "table", "ip", table])
                    .status();
            }
        }
        let table = format!("{NAME}_{}", std::process::id());
        let drop_and_count = format!("ip daddr {TEST_RANGE} counter name leaked drop");
        let rules = format!(
            "table ip {table} {{
    counter leaked {{ }}
    chain output {{ type filter hook output priority raw; {drop_and_count}; }}
    chain forward {{ type filter hook forward priority raw; {drop_and_count}; }}
}}
"
        );
        nft(Command::new("nft"), &rules);
        LeakTrap { table }
    }

    /// How many packets the table dropped.
    fn packets(&self) -> u64 {
        let counter =
            run(Command::new("nft").args(["list", "counter", "ip", &self.table, "leaked"]));
        counter
            .split_whitespace()
            .skip_while(|word| *word != "packets")
            .nth(1)
            .and_then(|packets| packets.parse().ok())
            .unwrap_or_else(|| panic!("no packet count in {counter}"))
    }
}

impl Drop for LeakTrap {
    fn drop(&mut self) {
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", &self.table])
            .status();
    }
}

/// The hosts and their bridge, as namespaces. Dropping it kills every
/// process left in them, by its id, then deletes them.
struct Network {
    /// `uah-PID`, the start of every namespace's name.
    prefix: String,
}

impl Network {
    /// Removes what runs that are gone left behind, then makes the bridge
    /// and the hosts.
    fn create() -> Network {
        let namespaces = ip(&["netns", "list"]);
        for netns in namespaces
            .lines()
            .filter_map(|l| l.split_whitespace().next())
        {
            if is_stale(netns, '-') {
                remove_namespace(netns);
            }
        }
        let network = Network {
            prefix: format!("{NAME}-{}", std::process::id()),
        };
        let bridge = network.bridge();
        ip(&["netns", "add", &bridge]);
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge, "link", "set", "br0", "up"]);
        for host in HOSTS {
            let netns = network.netns(host);
            let port = network.port(host);
            ip(&["netns", "add", &netns]);
            // Made inside the bridge's namespace, the pair's other end moved
            // straight into the host's: the root namespace never has either.
            ip(&["-n", &bridge, "link", "add", &port, "type", "veth"]
                .into_iter()
                .chain(["peer", "name", "eth0", "netns", &netns])
                .collect::<Vec<_>>());
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"]);
            let address = format!("{}/{PREFIX_LENGTH}", host.address);
            ip(&["-n", &netns, "address", "add", &address, "dev", "eth0"]);
            ip(&["-n", &netns, "link", "set", "eth0", "up"]);
            ip(&["-n", &netns, "link", "set", "lo", "up"]);
        }
        network
    }

    /// The namespace of `host`.
    fn netns(&self, host: Host) -> String {
        format!("{}-{}", self.prefix, host.name)
    }

    fn bridge(&self) -> String {
        format!("{}-bridge", self.prefix)
    }

    /// The bridge's end of `host`'s veth pair: `host`'s link.
    fn port(&self, host: Host) -> String {
        format!("to-{}", host.name)
    }

    fn namespaces(&self) -> Vec<String> {
        let hosts = HOSTS.iter().map(|host| self.netns(*host));
        hosts.chain([self.bridge()]).collect()
    }

    /// Stops before any traffic, tearing down, if a test namespace has a
    /// default route, or if the root namespace has an address or route in
    /// [`TEST_RANGE`].
    fn assert_isolated(&self) {
        for netns in self.namespaces() {
            for family in ["-4", "-6"] {
                let default = ip(&["-n", &netns, family, "route", "show", "default"]);
                assert_eq!(default, "", "{netns} has a default route");
            }
        }
        let addresses = ip(&["-4", "address", "show", "to", TEST_RANGE]);
        assert_eq!(addresses, "", "the root namespace has a test address");
        let routes = ip(&["-4", "route", "show", "root", TEST_RANGE]);
        assert_eq!(
            routes, "",
            "the root namespace has a route to a test address"
        );
    }

    /// `program`, to run on `host`.
    fn exec(&self, host: Host, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.netns(host), program]);
        command
    }

    /// `curl -sS --max-time 30 ARGS`, to run on `host`, its stdout line
    /// buffered (coreutils' `stdbuf`) so that a load's lines arrive as its
    /// answers do, and none is lost when it is stopped.
    fn curl(&self, host: Host, args: &[&str]) -> Command {
        let mut curl = self.exec(host, "stdbuf");
        curl.args(["-oL", "curl", "-sS", "--max-time", "30"])
            .args(args);
        curl
    }

    /// `GET path` from `host` to `instance`'s own address, with curl.
    fn get(&self, host: Host, instance: &Host, path: &str) -> Answer {
        let url = format!("http://{}:{PORT}{path}", instance.address);
        Answer::parse(&run(&mut self.curl(host, &["-i", &url])))
    }

    /// Sets `host`'s link `up` or `down`, on the bridge's side: the host's
    /// cable, pulled or put back.
    fn set_link(&self, host: Host, state: &str) {
        let port = self.port(host);
        ip(&["-n", &self.bridge(), "link", "set", &port, state]);
    }

    /// Waits until something on `host` listens on TCP `port`, from `ss` on
    /// the host: the test itself never connects to a test address.
    fn wait_for_listener(
        &self,
        host: Host,
        port: &str,
        child: &mut Child,
    ) -> Result<(), ExitStatus> {
        let filter = format!("sport = :{port}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("the child can be waited for") {
                return Err(status);
            }
            if !run(self.exec(host, "ss").args(["-Hltn", &filter])).is_empty() {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "nothing listened on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for netns in self.namespaces() {
            remove_namespace(&netns);
        }
    }
}

/// Kills every process in namespace `netns` by its id (deleting a namespace
/// leaves its processes running), then deletes it.
fn remove_namespace(netns: &str) {
    let pids = || {
        let output = Command::new("ip").args(["netns", "pids", netns]).output();
        output.map_or_else(
            |_| String::new(),
            |output| String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = pids();
        if left.trim().is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in left.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("ip").args(["netns", "delete", netns]).status();
}

/// nginx on the nginx host, with the configuration `deploy/render-nginx`
/// writes for the instances, and a throwaway certificate for `localhost`,
/// the name the client host's curl resolves to the nginx host's address.
struct Front {
    nginx: Child,
    cert: PathBuf,
    /// `deploy/render-nginx`'s arguments but the instances.
    settings: Vec<OsString>,
    prefix: TempDir,
}

impl Front {
    fn start(network: &Network, upstreams: &[String]) -> Front {
        let prefix = make_prefix();
        let (cert, key) = make_certificate(prefix.path());
        let listen = format!("{}:443", NGINX.address);
        let mut settings: Vec<OsString> = ["--standalone", "--listen", &listen, "--cert"]
            .map(OsString::from)
            .into();
        settings.extend([cert.clone().into(), "--key".into(), key.into()]);
        settings.extend(TEST_SETTINGS.iter().map(OsString::from));
        render(prefix.path(), &settings, upstreams);
        let nginx = nginx_program();
        let mut command = network.exec(NGINX, &nginx.to_string_lossy());
        let mut nginx = spawn_nginx(&mut command, prefix.path());
        if let Err(status) = network.wait_for_listener(NGINX, "443", &mut nginx) {
            panic!("{}", nginx_failed(status, prefix.path()));
        }
        Front {
            nginx,
            cert,
            settings,
            prefix,
        }
    }

    /// curl on the client host with `args`, over HTTPS to nginx for `path`.
    fn curl(&self, network: &Network, args: &[&str], path: &str) -> Command {
        let mut curl = network.curl(CLIENT, &[]);
        curl.arg("--cacert").arg(&self.cert);
        curl.args(["--resolve", &format!("localhost:443:{}", NGINX.address)]);
        curl.args(args).arg(format!("https://localhost{path}"));
        curl
    }

    /// Renders the configuration again with `upstreams` alone, and has
    /// nginx load it.
    fn reload_with(&self, upstreams: &[String]) {
        render(self.prefix.path(), &self.settings, upstreams);
        reload(self.nginx.id());
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("access.log")).expect("the access log")
    }

    /// The access log once it has `lines` lines.
    fn wait_for_access_log(&self, lines: usize) -> String {
        wait_until(
            || self.access_log().lines().count() >= lines,
            || format!("the access log has only:\n{}", self.access_log()),
        );
        self.access_log()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        stop(&mut self.nginx, self.prefix.path());
    }
}

/// A bounded load from the client host: curl, four requests at a time over
/// HTTP/1.1 keep-alive connections, to `/example?n=1` up to `?n=COUNT`,
/// printing a line per answer. It ends after COUNT requests, or when told.
struct Load {
    curl: Child,
    /// `status size exitcode seconds error`, one line per request, and
    /// when it came.
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<JoinHandle<()>>,
}

/// What a load saw.
struct Report {
    requests: usize,
    failures: Vec<String>,
    slowest: Duration,
    /// When each request that took a second or more (one that met a lost
    /// host) was answered.
    slow: Vec<Instant>,
}

impl Report {
    fn assert_no_failure(&self) {
        assert!(self.failures.is_empty(), "failed: {:#?}", self.failures);
    }

    fn summary(&self) -> String {
        format!(
            "{} requests, none failed, {} took a second or more, the slowest {:?}",
            self.requests,
            self.slow.len(),
            self.slowest
        )
    }
}

impl Load {
    const MAX: usize = 50_000;

    /// Starts curl on the client host with `args` for COUNT requests.
    fn start(network: &Network, front: &Front, args: &[&str], count: usize) -> Load {
        let path = format!("/example?n=[1-{count}]");
        let write_out = "%{http_code} %{size_download} %{exitcode} %{time_total} %{errormsg}\n";
        let mut curl = front.curl(
            network,
            &[
                &["--http1.1", "--parallel", "--parallel-max", "4"],
                &["-o", "/dev/null", "-w", write_out],
                args,
            ]
            .concat(),
            &path,
        );
        let mut curl = curl
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("curl runs");
        let stdout = curl.stdout.take().expect("stdout is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                let mut stdout = BufReader::new(stdout);
                let mut line = String::new();
                // A line cut short when curl is stopped is no answer.
                while stdout
                    .read_line(&mut line)
                    .is_ok_and(|_| line.ends_with('\n'))
                {
                    let answer = std::mem::take(&mut line);
                    let answer = (Instant::now(), answer.trim_end().to_owned());
                    lines.lock().expect("a lock").push(answer);
                }
            })
        };
        Load {
            curl,
            lines,
            reader: Some(reader),
        }
    }

    fn answered(&self) -> usize {
        self.lines.lock().expect("a lock").len()
    }

    /// Waits until `count` requests have been answered.
    fn wait_for(&mut self, count: usize) {
        let lines = self.lines.clone();
        wait_until(
            || {
                if self.answered() >= count {
                    return true;
                }
                let ended = self.curl.try_wait().expect("curl can be waited for");
                assert!(ended.is_none(), "the load ended early: {ended:?}");
                false
            },
            || {
                let answered = lines.lock().expect("a lock").len();
                format!("{answered} requests, not {count}")
            },
        );
    }

    /// Stops curl, if it is still running, and reads what it printed.
    fn finish(&mut self) -> Report {
        if self
            .curl
            .try_wait()
            .expect("curl can be waited for")
            .is_none()
        {
            signal(self.curl.id(), "TERM");
        }
        let _ = self.curl.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the reader ran to its end");
        }
        let lines = std::mem::take(&mut *self.lines.lock().expect("a lock"));
        let times: Vec<(Instant, Duration)> = lines
            .iter()
            .filter_map(|(at, line)| Some((*at, line.split(' ').nth(3)?.parse().ok()?)))
            .map(|(at, seconds)| (at, Duration::from_secs_f64(seconds)))
            .collect();
        Report {
            requests: lines.len(),
            failures: lines
                .into_iter()
                .map(|(_, line)| line)
                .filter(|line| !line.starts_with("401 26 0 "))
                .collect(),
            slowest: times
                .iter()
                .map(|(_, took)| *took)
                .max()
                .unwrap_or_default(),
            slow: times
                .iter()
                .filter(|(_, took)| *took >= Duration::from_secs(1))
                .map(|(at, _)| *at)
                .collect(),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.curl.kill();
        let _ = self.curl.wait();
    }
}
