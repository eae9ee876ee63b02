//! The compile benchmark: generates large projects (N backends × 25
//! servers, N host+path routes), and reports haptic's compile wall time and
//! peak memory beside the real `haproxy -c` on the same output.
//!
//! It also times `haptic diff` between that project and a copy where one
//! server in a hundred is re-weighted (the merge-request plan).
//!
//! Run with `cargo bench --bench compile`. Sizes (numbers of backends) come
//! from `HAPTIC_BENCH_SIZES` (default `200,2000,20000`). Results are in
//! `benches/README.md`.
//!
//! Each size is measured in rounds (`HAPTIC_BENCH_ROUNDS`, default 5): a
//! round runs haptic, then `haproxy -c`, then `haptic diff`, each after a
//! pause of a second. Rounds compile the project and its changed copy in
//! turn into one output directory, so that each compile replaces outputs
//! that differ (a compile that finds its outputs already written leaves
//! them, and would be timed doing much less). A compiler in CI starts cold, and on these machines
//! a process that follows another at once finds memory the other just gave
//! back, which makes back-to-back runs look faster than real ones. The
//! tools take turns so that a slow minute of the host slows both alike;
//! the table gives each one's best and median over the rounds, and the
//! ratio of the bests and of the medians.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SERVERS_PER_BACKEND: usize = 25;

/// Writes a project; with `changed`, one server in a hundred has another
/// weight (the "1 % changed" version for the plan benchmark).
fn generate(dir: &Path, backends: usize, changed: bool) {
    std::fs::write(
        dir.join("haptic.toml"),
        "[project]\nname = \"bench\"\nhaproxy = \"2.6\"\n",
    )
    .unwrap();
    let mut main = String::from("import std.checks\nimport \"backends.hap\"\n\nenv production\n\n");
    main.push_str("frontend edge {\n  bind :8080\n");
    for b in 0..backends {
        main.push_str(&format!(
            "  route host \"svc{b}.example.com\" path prefix \"/api/\" -> svc{b}\n"
        ));
    }
    main.push_str("  default -> svc0\n}\n");
    let mut be = String::new();
    for b in 0..backends {
        be.push_str(&format!(
            "backend svc{b} {{\n  balance = leastconn\n  check = checks.healthz\n"
        ));
        for s in 0..SERVERS_PER_BACKEND {
            let n = b * SERVERS_PER_BACKEND + s;
            be.push_str(&format!(
                "  server s{s} = 10.{}.{}.{}:8080 {{ weight = {}, maxconn = 100 }}\n",
                (n >> 16) & 255,
                (n >> 8) & 255,
                n & 255,
                1 + s % 100 + usize::from(changed && n % 100 == 0)
            ));
        }
        be.push_str("}\n");
    }
    std::fs::write(dir.join("main.hap"), main).unwrap();
    std::fs::write(dir.join("backends.hap"), be).unwrap();
}

const PAUSE: Duration = Duration::from_secs(1);

/// The runs of one command over the rounds.
#[derive(Default)]
struct Runs {
    times: Vec<Duration>,
    /// The highest peak resident memory (KiB).
    rss: i64,
}

impl Runs {
    /// Runs `command` once, after [`PAUSE`]; panics with `what` if it fails.
    fn run(&mut self, mut command: Command, what: &str) {
        std::thread::sleep(PAUSE);
        let (time, rss, ok) = measure(&mut command);
        assert!(ok, "{what} failed");
        self.times.push(time);
        self.rss = self.rss.max(rss);
    }

    fn best(&self) -> f64 {
        self.times
            .iter()
            .min()
            .expect("one round at least")
            .as_secs_f64()
    }

    fn median(&self) -> f64 {
        let mut times = self.times.clone();
        times.sort();
        let n = times.len();
        (times[(n - 1) / 2] + times[n / 2]).as_secs_f64() / 2.0
    }
}

/// Runs a command; returns its wall time and its peak resident memory (KiB).
// The child is reaped by `wait4`, which also gives its rusage; `Child::wait`
// cannot, so clippy's zombie check does not see the wait.
#[allow(clippy::zombie_processes)]
fn measure(command: &mut Command) -> (Duration, i64, bool) {
    let start = Instant::now();
    let child = command.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid pointers; `child` is not
    // waited on again.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(rc, pid, "wait4 failed");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (elapsed, usage.ru_maxrss, ok)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("HAPTIC_BENCH_SIZES")
        .unwrap_or_else(|_| "200,2000,20000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = std::env::var("HAPTIC_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let haptic = env!("CARGO_BIN_EXE_haptic");
    let haproxy = ["haproxy", "/usr/sbin/haproxy"]
        .into_iter()
        .find(|h| Command::new(h).arg("-v").output().is_ok())
        .expect("haproxy is needed for the benchmark: apt-get install -y haproxy");
    println!("{rounds} rounds a size; each time is best / median");
    println!();
    println!(
        "| backends | servers | routes | source | haptic compile | haptic peak RSS | haproxy -c | haproxy peak RSS | haptic / haproxy (best, median) | haptic diff (1 % changed) | diff / compile (medians) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // Per size: backends, haptic's median, and the ratios of bests and medians.
    let mut summary: Vec<(usize, f64, f64, f64)> = Vec::new();
    for backends in sizes {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), backends, false);
        let changed = tempfile::tempdir().unwrap();
        generate(changed.path(), backends, true);
        let source_bytes = std::fs::metadata(dir.path().join("backends.hap"))
            .unwrap()
            .len()
            + std::fs::metadata(dir.path().join("main.hap"))
                .unwrap()
                .len();
        let out = dir.path().join("out");
        let cfg = out.join("production/haproxy.cfg");
        let (mut compile, mut check, mut diff) =
            (Runs::default(), Runs::default(), Runs::default());
        // `compile` leaves an output that already holds what it would
        // write, so each round compiles the other version: every timed
        // compile replaces both files, as after a change of the sources.
        let compile_one = |project: &Path| {
            let mut c = Command::new(haptic);
            c.arg("compile")
                .arg(project)
                .arg("--out")
                .arg(&out)
                .stderr(std::process::Stdio::null());
            c
        };
        assert!(compile_one(dir.path()).status().unwrap().success());
        for round in 0..rounds {
            let project = if round % 2 == 0 { &changed } else { &dir };
            compile.run(
                compile_one(project.path()),
                &format!("haptic compile of {backends} backends"),
            );
            let mut c = Command::new(haproxy);
            c.args(["-c", "-f"])
                .arg(&cfg)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            check.run(c, "haproxy -c of the generated configuration");
            let mut c = Command::new(haptic);
            c.arg("diff")
                .arg(changed.path())
                .arg("--base")
                .arg(dir.path())
                .args(["--format", "json"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            diff.run(c, &format!("haptic diff of {backends} backends"));
        }
        let mib = |kib: i64| kib as f64 / 1024.0;
        println!(
            "| {backends} | {} | {backends} | {:.1} MiB | {:.3} / {:.3} s | {:.0} MiB | {:.3} / {:.3} s | {:.0} MiB | {:.2}, {:.2} | {:.3} / {:.3} s | {:.2} |",
            backends * SERVERS_PER_BACKEND,
            source_bytes as f64 / (1 << 20) as f64,
            compile.best(),
            compile.median(),
            mib(compile.rss),
            check.best(),
            check.median(),
            mib(check.rss),
            compile.best() / check.best(),
            compile.median() / check.median(),
            diff.best(),
            diff.median(),
            diff.median() / compile.median(),
        );
        summary.push((
            backends,
            compile.median(),
            compile.best() / check.best(),
            compile.median() / check.median(),
        ));
    }
    print_verdict(&summary);
}

/// The target of issue 2 read off the table: haptic at most a tenth of
/// `haproxy -c`, and its time growing with the project no faster than
/// linearly.
fn print_verdict(summary: &[(usize, f64, f64, f64)]) {
    println!();
    let sizes: Vec<String> = summary
        .iter()
        .map(|&(backends, _, best, median)| {
            let met = if best <= 0.1 && median <= 0.1 {
                "met"
            } else {
                "not met"
            };
            format!("{backends}: {met} ({best:.2}, {median:.2})")
        })
        .collect();
    println!(
        "At most a tenth of `haproxy -c` (ratio of bests, of medians): {}.",
        sizes.join("; ")
    );
    let growth: Vec<String> = summary
        .windows(2)
        .map(|w| {
            let ((small, t_small, ..), (large, t_large, ..)) = (w[0], w[1]);
            format!(
                "{small} → {large} backends (×{:.0}): time ×{:.1}",
                large as f64 / small as f64,
                t_large / t_small
            )
        })
        .collect();
    if !growth.is_empty() {
        println!("Growth of haptic's median: {}.", growth.join("; "));
    }
}
