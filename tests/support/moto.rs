#![allow(dead_code)]
//! A moto server on loopback for the AWS tests, provisioned by the tests themselves: a Python
//! venv under the target directory with the pinned moto, and the CBOR bridge of
//! `tests/moto/server.py` in front of it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub const MOTO_VERSION: &str = "5.2.5";
pub const CBOR2_VERSION: &str = "6.3.0";
pub const REGION: &str = "eu-west-1";

pub struct Moto {
    pub endpoint: String,
    pub python: PathBuf,
    _child: Child,
}

fn venv_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("moto-venv")
}

pub fn moto_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("moto")
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The venv's python, with moto and cbor2 at the pinned versions; made on first use.
fn provision() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    let check = format!(
        "import moto, cbor2, importlib.metadata as m; assert moto.__version__ == '{MOTO_VERSION}'; \
         assert m.version('cbor2') == '{CBOR2_VERSION}'"
    );
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", &check])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    let system_python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or_else(|| {
            "the AWS tests need Python 3 with venv and pip to run a moto server: install it \
             (Debian: apt-get install python3 python3-venv) and run the tests again"
                .to_string()
        })?;
    run(
        Command::new(system_python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "creating a Python venv for moto (Debian: apt-get install python3-venv)",
    )?;
    run(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("moto[server]=={MOTO_VERSION}"),
            &format!("cbor2=={CBOR2_VERSION}"),
        ]),
        "installing moto from PyPI into the venv",
    )?;
    if ready(&python) {
        Ok(python)
    } else {
        Err("moto was installed but cannot be imported".into())
    }
}

fn start() -> Result<Moto, String> {
    let python = provision()?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free loopback port: {e}"))?
        .port();
    let log =
        std::fs::File::create(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("moto-server.log"))
            .map_err(|e| format!("creating the moto log: {e}"))?;
    let mut child = Command::new(&python)
        .arg(moto_dir().join("server.py"))
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        // moto counts every service's tasks as running; otherwise running is always 0.
        .env("MOTO_ECS_SERVICE_RUNNING", "4")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting the moto server: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the moto server")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("waiting for the moto server: {e}"))?;
    if !line.starts_with("ready") {
        return Err(format!(
            "the moto server did not start (see {}/moto-server.log)",
            env!("CARGO_TARGET_TMPDIR")
        ));
    }
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        python,
        _child: child,
    })
}

/// The one moto server of this test run. A missing Python is a failing test that says what
/// to install, never a skip.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
    match MOTO.get_or_init(start) {
        Ok(moto) => moto,
        Err(why) => panic!("{why}"),
    }
}

/// Environment for anything that talks to moto: fake credentials, and no instance metadata
/// lookups (they would leave loopback).
pub fn aws_env() -> [(&'static str, &'static str); 4] {
    [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_REGION", REGION),
    ]
}

/// ARNs of an estate built by `tests/moto/estate.py`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Estate {
    pub load_balancer_arn: String,
    pub listener_arn: String,
    pub rule_arn: Option<String>,
    pub neighbour_rule_arn: Option<String>,
    pub second_listener_arn: Option<String>,
    pub second_rule_arn: Option<String>,
    pub target_groups: std::collections::HashMap<String, String>,
    pub clusters: std::collections::HashMap<String, String>,
    pub services: std::collections::HashMap<String, String>,
    /// Each side's task definition ARN, as registered.
    pub task_definitions: std::collections::HashMap<String, String>,
}

impl Estate {
    pub fn build(name: &str, flags: &[&str]) -> Estate {
        let moto = moto();
        let output = Command::new(&moto.python)
            .arg(moto_dir().join("estate.py"))
            .arg(&moto.endpoint)
            .arg(name)
            .args(flags)
            .output()
            .expect("running estate.py");
        assert!(
            output.status.success(),
            "estate.py {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("estate.py prints JSON")
    }

    pub fn group(&self, color: &str) -> &str {
        &self.target_groups[color]
    }

    /// A `cutover.toml` for this estate; `traffic` is the `[traffic]` body.
    pub fn config(&self, traffic: &str) -> String {
        format!(
            "[aws]\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n\n[traffic]\n{traffic}\n\n\
             [blue]\ncluster = \"{}\"\nservice = \"{}\"\ntarget_group_arn = \"{}\"\n\n\
             [green]\ncluster = \"{}\"\nservice = \"{}\"\ntarget_group_arn = \"{}\"\n",
            moto().endpoint,
            self.clusters["blue"],
            self.services["blue"],
            self.group("blue"),
            self.clusters["green"],
            self.services["green"],
            self.group("green"),
        )
    }

    /// A `cutover.toml` for the native service (blue's, with green's group as its alternate)
    /// behind the rule: the `[service]` form.
    pub fn native_config(&self) -> String {
        format!(
            "[aws]\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n\n[traffic]\nrule_arn = \"{}\"\n\n\
             [service]\ncluster = \"{}\"\nname = \"{}\"\ntarget_group_arn = \"{}\"\n\
             alternate_target_group_arn = \"{}\"\n",
            moto().endpoint,
            self.rule_arn.as_deref().expect("a rule estate"),
            self.clusters["blue"],
            self.services["blue"],
            self.group("blue"),
            self.group("green"),
        )
    }

    pub fn rule_config(&self) -> String {
        self.config(&format!(
            "rule_arn = \"{}\"",
            self.rule_arn.as_deref().expect("a rule estate")
        ))
    }

    pub fn listener_config(&self) -> String {
        self.config(&format!("listener_arn = \"{}\"", self.listener_arn))
    }
}

/// Writes `text` to a config file named after the test and returns its path.
pub fn write_config(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("writing the config");
    path
}

/// Calls one of the test double's hooks (see `tests/moto/elbv2_rules.py`) on loopback and
/// returns the HTTP status and body.
pub fn double_hook(method: &str, path_and_query: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let address = moto().endpoint.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).expect("connecting to the double");
    write!(
        stream,
        "{method} {path_and_query} HTTP/1.0\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("asking the double");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the double's answer");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// The OIDC client secret the rule or listener holds now, as AWS would use it (Describe never
/// shows it).
pub fn oidc_secret(arn: &str) -> Option<String> {
    let (status, body) = double_hook("GET", &format!("/_double/oidc-secret?arn={arn}"));
    (status == 200).then_some(body)
}

/// The secret `estate.py` gives the OIDC action.
pub const OIDC_SECRET: &str = "s3cret-the-idp-issued";

/// From now on the double answers `action` on `arn` with `code` (AccessDenied, Throttling, …).
pub fn deny(action: &str, arn: &str, code: &str) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/deny?action={action}&arn={arn}&code={code}"),
    );
    assert_eq!(status, 200, "the double took the fault");
}

/// From now on the double answers `action` on `arn` `seconds` late (the change applied first).
pub fn delay(action: &str, arn: &str, seconds: f64) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/delay?action={action}&arn={arn}&seconds={seconds}"),
    );
    assert_eq!(status, 200, "the double took the delay");
}

/// The next `times` `action` requests on `arn` are applied, then answered with a 500: the
/// answer is lost after the change.
pub fn fail_after(action: &str, arn: &str, times: u32) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/fail-after?action={action}&arn={arn}&times={times}"),
    );
    assert_eq!(status, 200, "the double took the fault");
}

/// The next `action` request on `arn` is held `seconds` before it is applied, and applied
/// then even if the client gave up on it: a write that lands late.
pub fn hold(action: &str, arn: &str, seconds: f64) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/hold?action={action}&arn={arn}&seconds={seconds}"),
    );
    assert_eq!(status, 200, "the double took the hold");
}

/// From now on the results of CloudWatch query `id`, in requests that mention `marker`, come
/// back with `status` and no points; with `series` above 1, as that many series under the id.
pub fn series_fault(id: &str, marker: &str, answer: &str, series: u32) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/cw-series?id={id}&marker={marker}&status={answer}&series={series}"),
    );
    assert_eq!(status, 200, "the double took the series fault");
}

/// From now on DescribeRules of `listener` answers at most `size` rules a page.
pub fn page_size(listener: &str, size: u32) {
    let (status, _) = double_hook(
        "POST",
        &format!("/_double/page-size?arn={listener}&size={size}"),
    );
    assert_eq!(status, 200, "the double took the page size");
}

/// The double answers `action` on `arn` as usual again.
pub fn allow(action: &str, arn: &str) {
    let (status, _) = double_hook("POST", &format!("/_double/allow?action={action}&arn={arn}"));
    assert_eq!(status, 200, "the double dropped the fault");
}

/// Moves the double's ECS-native deployment clock of one service on by `seconds`: stages
/// whose time is up end, pause hooks past `expiresAt` take their timeout action.
pub fn native_clock(cluster: &str, service: &str, seconds: f64) {
    let (status, _) = double_hook(
        "POST",
        &format!(
            "/_double/ecs-native-advance?cluster={cluster}&service={service}&seconds={seconds}"
        ),
    );
    assert_eq!(status, 200, "the double moved its clock");
}

/// The double's ELB token buckets for callers signing with `key` (tests/moto/buckets.py).
pub fn elb_budget(key: &str, settings: &str) {
    let (status, body) = double_hook("POST", &format!("/_double/elb-budget?key={key}&{settings}"));
    assert_eq!(status, 200, "{body}");
}

/// What the double's buckets let through for `key`, and what they throttled.
pub fn elb_spent(key: &str) -> (u64, u64, f64) {
    let (status, body) = double_hook("GET", &format!("/_double/elb-spent?key={key}"));
    assert_eq!(status, 200, "{body}");
    let spent: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    (
        spent["calls"].as_u64().unwrap_or_default(),
        spent["throttled"].as_u64().unwrap_or_default(),
        spent["seconds"].as_f64().unwrap_or_default(),
    )
}
