//! Shared test support: temporary projects, the real `haproxy -c`, and
//! throw-away certificates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use haptic::driver::{self, Compilation, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `haproxy` binary. Tests that need it fail (never skip) when it is
/// missing, with the command that installs it.
pub fn haproxy() -> &'static str {
    static FOUND: OnceLock<String> = OnceLock::new();
    FOUND.get_or_init(|| {
        for candidate in ["haproxy", "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"] {
            if Command::new(candidate)
                .arg("-v")
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return candidate.to_string();
            }
        }
        panic!(
            "HAProxy is required by this test and was not found on PATH or in /usr/sbin.\n\
             Install it with: apt-get update && apt-get install -y haproxy socat"
        )
    })
}

/// A self-signed certificate (with its key) and a CA file, made once per
/// test process in a temporary directory. No key is ever committed.
pub struct Certs {
    _dir: tempfile::TempDir,
    /// A directory holding one certificate+key PEM, for `crt DIR/`.
    pub cert_dir: PathBuf,
    /// The certificate+key PEM.
    pub cert: PathBuf,
    /// The certificate alone, usable as a CA file.
    pub ca: PathBuf,
    /// A crt-list naming the certificate for two SNI names.
    pub crt_list: PathBuf,
    /// An error page: a whole HTTP response, `503`, its body
    /// [`ERROR_PAGE_BODY`].
    pub error_page: PathBuf,
}

/// The body of [`Certs::error_page`].
pub const ERROR_PAGE_BODY: &str = "<h1>back soon</h1>";

pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let key = dir.path().join("key.pem");
        let ca = dir.path().join("cert.pem");
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=haptic-test",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&ca)
            .output()
            .expect("openssl is needed to make a throw-away certificate");
        assert!(
            status.status.success(),
            "openssl failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let cert_dir = dir.path().join("certs");
        std::fs::create_dir(&cert_dir).unwrap();
        let cert = cert_dir.join("site.pem");
        let pem = std::fs::read_to_string(&ca).unwrap() + &std::fs::read_to_string(&key).unwrap();
        std::fs::write(&cert, pem).unwrap();
        let crt_list = dir.path().join("crt-list.txt");
        let line = format!(
            "{} [alpn h2,http/1.1] www.example.com api.example.com\n",
            cert.display()
        );
        std::fs::write(&crt_list, line).unwrap();
        let error_page = dir.path().join("503.http");
        std::fs::write(
            &error_page,
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{ERROR_PAGE_BODY}",
                ERROR_PAGE_BODY.len()
            ),
        )
        .unwrap();
        Certs {
            _dir: dir,
            cert_dir,
            cert,
            ca,
            crt_list,
            error_page,
        }
    })
}

/// Points the certificate, CA and error page paths of a configuration at
/// the test's: the deployment's paths do not exist on a test machine.
/// Returns the configuration and the secret names it references.
pub fn for_test_machine(cfg: &str) -> (String, Vec<String>) {
    let certs = certs();
    let mut out = String::with_capacity(cfg.len());
    let mut secrets = Vec::new();
    for line in cfg.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let mut rewritten = Vec::with_capacity(words.len());
        // `errorfile STATUS FILE`, after the line's indentation.
        let error_file = words
            .iter()
            .position(|w| !w.is_empty())
            .filter(|&first| words[first] == "errorfile")
            .map(|first| first + 2);
        let mut previous = "";
        for (i, word) in words.into_iter().enumerate() {
            let replaced = match previous {
                _ if error_file == Some(i) => certs.error_page.display().to_string(),
                "crt" if word.ends_with('/') => format!("{}/", certs.cert_dir.display()),
                "crt" => certs.cert.display().to_string(),
                "crt-list" => certs.crt_list.display().to_string(),
                "ca-file" => certs.ca.display().to_string(),
                _ => word.to_string(),
            };
            previous = word;
            rewritten.push(replaced);
        }
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            if let Some(end) = after.find('}') {
                secrets.push(after[..end].to_string());
                rest = &after[end..];
            } else {
                break;
            }
        }
        out.push_str(&rewritten.join(" "));
        out.push('\n');
    }
    secrets.sort();
    secrets.dedup();
    (out, secrets)
}

/// Runs the real `haproxy -c -dW` (zero warnings) on a configuration.
pub fn haproxy_check(cfg: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    check_in(cfg, &dir)
}

/// [`haproxy_check`] of an environment's outputs: its routes map, when it
/// has one, is put where the configuration looks it up, in a temporary
/// directory instead of the deployment's path.
pub fn haproxy_check_output(output: &Output) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = match &output.routes_map {
        Some(map) => {
            let path = dir.path().join("routes.map");
            std::fs::write(&path, map).unwrap();
            with_map_at(&output.haproxy_cfg, &path)
        }
        None => output.haproxy_cfg.clone(),
    };
    check_in(&cfg, &dir)
}

/// `cfg` with every lookup in a map (`map(PATH)`, `map_beg(PATH)`) reading
/// `path` instead.
pub fn with_map_at(cfg: &str, path: &Path) -> String {
    let mut out = String::with_capacity(cfg.len());
    let mut rest = cfg;
    let next = |rest: &str| {
        [",map(", ",map_beg("]
            .into_iter()
            .filter_map(|lookup| Some(rest.find(lookup)? + lookup.len()))
            .min()
    };
    while let Some(end) = next(rest) {
        let (before, after) = rest.split_at(end);
        out.push_str(before);
        out.push_str(&path.display().to_string());
        rest = &after[after.find(')').expect("a map lookup ends")..];
    }
    out.push_str(rest);
    out
}

fn check_in(cfg: &str, dir: &tempfile::TempDir) -> Result<(), String> {
    let (cfg, secrets) = for_test_machine(cfg);
    // Every secret the configuration expands, and no other, stops HAProxy
    // with its name where its variable is not set.
    // Each `.if !defined(A) || ...` block, by what it does: a notice names
    // one secret, an alert stops HAProxy.
    let lines: Vec<&str> = cfg.lines().collect();
    let (mut named, mut required) = (Vec::new(), Vec::new());
    for pair in lines.windows(2) {
        let Some(terms) = pair[0].strip_prefix(".if ") else {
            continue;
        };
        let terms = terms.split(" || ").map(|t| {
            t.trim_start_matches("!defined(")
                .trim_end_matches(')')
                .to_string()
        });
        match pair[1].trim_start().split(' ').next() {
            Some(".notice") => named.extend(terms),
            Some(".alert") => required.extend(terms),
            _ => {}
        }
    }
    assert_eq!(named, secrets, "the secrets named are those expanded");
    assert_eq!(required, secrets, "the secrets required are those expanded");
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, &cfg).unwrap();
    let mut command = Command::new(haproxy());
    command.args(["-c", "-dW", "-f"]).arg(&path);
    for name in secrets {
        command.env(name, "test-secret-value");
    }
    let output = command.output().expect("run haproxy -c");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "haproxy -c -dW rejected the configuration:\n{}{}\n--- configuration ---\n{cfg}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A project in a temporary directory.
pub struct TempProject {
    pub dir: tempfile::TempDir,
}

impl TempProject {
    pub fn new(files: &[(&str, &str)]) -> TempProject {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            write(&dir.path().join(name), content.as_bytes());
        }
        TempProject { dir }
    }

    /// A one-file project with the default manifest.
    pub fn single(source: &str) -> TempProject {
        Self::new(&[("haptic.toml", MANIFEST), ("main.hap", source)])
    }

    /// A one-file project that targets the HAProxy the tests run
    /// ([`running_target`]).
    pub fn for_running(source: &str) -> TempProject {
        Self::new(&[("haptic.toml", &running_manifest()), ("main.hap", source)])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn compile(&self) -> Compilation {
        driver::compile(self.path()).expect("project loads")
    }
}

pub const MANIFEST: &str = "[project]\nname = \"test\"\nhaproxy = \"2.6\"\n";

/// The version a project targets to be planned for the HAProxy the tests
/// run ([`haproxy`]): its own branch, or the newest supported one before it
/// (2.6 on the test machines, whose HAProxy is 2.6.12).
pub fn running_target() -> haptic::model::Haproxy {
    static TARGET: OnceLock<haptic::model::Haproxy> = OnceLock::new();
    *TARGET.get_or_init(|| {
        let release = running_release();
        haptic::model::Haproxy::of_release(release).unwrap_or_else(|| {
            panic!("HAProxy {release:?} is older than any version haptic supports")
        })
    })
}

/// The release of the HAProxy the tests run, as `haproxy -v` gives it
/// (`2.6.12-1+deb12u4`).
pub fn running_release() -> &'static str {
    static RELEASE: OnceLock<String> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let out = Command::new(haproxy()).arg("-v").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .skip_while(|w| *w != "version")
            .nth(1)
            .unwrap_or_else(|| panic!("no version in `haproxy -v`:\n{text}"))
            .to_string()
    })
}

/// What the Runtime API of the HAProxy the tests run takes, as `apply`
/// sees it for a project that targets it ([`running_target`]).
pub fn running_runtime() -> haptic::model::Runtime<'static> {
    haptic::model::Runtime {
        version: running_target(),
        release: Some(running_release()),
    }
}

/// [`MANIFEST`] targeting HAProxy `version` (`"3.0"`).
pub fn manifest(version: &str) -> String {
    MANIFEST.replace("\"2.6\"", &format!("\"{version}\""))
}

/// [`MANIFEST`] targeting [`running_target`].
pub fn running_manifest() -> String {
    manifest(running_target().name())
}

pub fn write(path: &Path, content: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, content).unwrap();
}

/// Renders diagnostics as a person sees them, without colour.
pub fn rendered(c: &Compilation) -> String {
    haptic::diag::render::terminal(&c.diagnostics, &c.project.sources, false)
}

/// An output without its header comments, which name the sources' hash:
/// what HAProxy reads.
pub fn body(output: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.starts_with('#')).collect();
    lines.join("\n")
}

pub fn codes(c: &Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

/// The codes of the diagnostics in `haptic check --format json` output.
pub fn json_codes(json: &serde_json::Value) -> Vec<&str> {
    json["diagnostics"]
        .as_array()
        .expect("a diagnostics list")
        .iter()
        .map(|d| d["code"].as_str().expect("a code"))
        .collect()
}

/// Asserts every environment's output passes `haproxy -c -dW`.
pub fn assert_outputs_pass_haproxy(outputs: &[Output], what: &str) {
    for output in outputs {
        if let Err(e) = haproxy_check_output(output) {
            panic!("{what}, environment `{}`: {e}", output.env);
        }
    }
}

/// Runs the compiled `haptic` binary.
pub fn haptic(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_haptic"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run haptic")
}

/// Fails the test, showing what the command wrote to standard error,
/// unless it exited 0.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs git in `dir` with a fixed identity; fails the test on error.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small deterministic generator (xorshift) for the generated tests,
/// so that a failing case is reproduced by its number.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
