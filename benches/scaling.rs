//! The scaling benchmark: for each kind of object a project can have many
//! of, a project with N of them and one with 4N, checked (and rendered in
//! every format) by the release `haptic`; it prints the times and the
//! factor between them. Linear work grows about 4 times; a factor well
//! above that is work in the square of the objects, which is what this
//! benchmark is for: every row here was once such a path, or guards one
//! (see ARCHITECTURE.md, "Linear in the number of objects" and "Many
//! mistakes cost no more than many objects").
//!
//! Run with `cargo bench --bench scaling`; N comes from
//! `HAPTIC_SCALING_N` (default 4,000). Each time is the best of three.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A kind of project: its name, what `haptic` is asked, and its
/// `main.hap` for `n` objects.
struct Kind {
    name: &'static str,
    args: &'static [&'static str],
    source: fn(usize) -> String,
}

const HEAD: &str = "import std.checks\nimport std.tls\nenv production\n";
const ONE_BACKEND: &str = "backend b { server s = 10.0.0.1:80 }\n";

fn routes_to(n: usize, route: impl Fn(usize) -> String) -> String {
    let mut src = String::from(HEAD);
    for i in 0..n {
        let _ = writeln!(src, "backend b{i} {{ server s = 10.0.0.1:80 }}");
    }
    src.push_str("frontend f {\n  bind :80\n");
    for i in 0..n {
        let _ = writeln!(src, "  {}", route(i));
    }
    src.push_str("  default -> b0\n}\n");
    src
}

/// The `i`th of 65,536 networks `10.N.N.0/24`.
fn net24(i: usize) -> String {
    format!("10.{}.{}.0/24", (i >> 8) & 255, i & 255)
}

/// `item(i)` for each of `n` objects (backends `b0`, `b1`, ... among
/// them), then a frontend that sends everything to `b0`.
fn items_then_a_frontend(n: usize, item: impl Fn(usize) -> String) -> String {
    let mut src = String::from(HEAD);
    for i in 0..n {
        let _ = writeln!(src, "{}", item(i));
    }
    src.push_str("frontend f { bind :80 default -> b0 }\n");
    src
}

/// `n` environments `e0`, `e1`, ..., and one condition listing `n` names
/// `{prefix}0`, `{prefix}1`, ... on one line (unknown ones unless the
/// prefix is `e`).
fn envs_and_condition(n: usize, prefix: char) -> String {
    let mut src = String::new();
    for i in 0..n {
        let _ = writeln!(src, "env e{i}");
    }
    let listed: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let _ = writeln!(
        src,
        "{ONE_BACKEND}frontend f {{ bind :80 default -> b }}\ndefaults {{ if env in [{}] {{ maxconn = 100 }} }}",
        listed.join(", ")
    );
    src
}

const KINDS: &[Kind] = &[
    Kind {
        name: "frontends, a bind each",
        args: &["check"],
        source: |n| {
            let mut src = format!("{HEAD}{ONE_BACKEND}");
            for i in 0..n {
                let _ = writeln!(src, "frontend f{i} {{ bind :{} default -> b }}", 1024 + i);
            }
            src
        },
    },
    Kind {
        name: "TLS policies and frontends",
        args: &["check"],
        source: |n| {
            let mut src = format!("{HEAD}{ONE_BACKEND}");
            for i in 0..n {
                let _ = writeln!(
                    src,
                    "tls t{i} = tls.intermediate {{ certs = \"/etc/c{i}/\" }}\nfrontend f{i} {{ bind :{} tls t{i} default -> b }}",
                    1024 + i
                );
            }
            src
        },
    },
    Kind {
        name: "routes by path",
        args: &["check"],
        source: |n| routes_to(n, |i| format!("route path prefix \"/q{i}/x\" -> b{i}")),
    },
    Kind {
        name: "routes by host",
        args: &["check"],
        source: |n| routes_to(n, |i| format!("route host \"h{i}.example.com\" -> b{i}")),
    },
    Kind {
        name: "routes of one host by path prefix, in a routes map",
        args: &["compile"],
        source: |n| {
            routes_to(n, |i| {
                format!("route host \"api.example.com\" path prefix \"/v{i}/x/\" -> b{i}")
            })
            .replacen(
                "env production\n",
                "env production\ndefaults { routes_map = \"/etc/haproxy/routes.map\" }\n",
                1,
            )
        },
    },
    Kind {
        name: "tcp routes by server name, to tcp backends",
        args: &["compile"],
        source: |n| {
            routes_to(n, |i| format!("route host \"h{i}.example.com\" -> b{i}"))
                .replace("{ server s", "{ mode = tcp server s")
                .replace("frontend f {\n", "frontend f {\n  mode = tcp\n")
        },
    },
    Kind {
        name: "canary routes by header before their host's, in a routes map",
        args: &["compile"],
        source: |n| {
            routes_to(n, |i| {
                format!(
                    "route host \"h{i}.example.com\" header \"X-Canary\" \"c{i}\" -> b{i}\n  \
                     route host \"h{i}.example.com\" -> b{i}"
                )
            })
            .replacen(
                "env production\n",
                "env production\ndefaults { routes_map = \"/etc/haproxy/routes.map\" }\n",
                1,
            )
        },
    },
    Kind {
        // Each route's networks are held by every earlier route's: the
        // shadowing lint looks at a bounded number of those lists.
        name: "routes by client networks, each list holding every later one's",
        args: &["check"],
        source: |n| {
            routes_to(n, |i| {
                format!(
                    "route path prefix \"/p{i}/\" from [10.0.0.0/8, {}] -> b{i}",
                    net24(i)
                )
            })
        },
    },
    Kind {
        // W0017 on every route: the frontend allows its networks, the
        // backend others.
        name: "routes by network to backends that refuse them (warnings)",
        args: &["check"],
        source: |n| {
            routes_to(n, |i| {
                format!("route path prefix \"/p{i}/\" from [{}] -> b{i}", net24(i))
            })
            .replace("{ server s", "{ allow = [192.168.0.0/16] server s")
            .replace("  bind :80\n", "  bind :80\n  allow = [10.0.0.0/8]\n")
        },
    },
    Kind {
        name: "wildcard routes by host",
        args: &["check"],
        source: |n| routes_to(n, |i| format!("route host \"*.h{i}.example.com\" -> b{i}")),
    },
    Kind {
        name: "routes shadowed by the first (warnings)",
        args: &["check"],
        source: |n| {
            routes_to(n, |i| match i {
                0 => "route path prefix \"/\" -> b0".into(),
                i => format!("route path prefix \"/p{i}\" -> b{i}"),
            })
        },
    },
    Kind {
        name: "constants, each used once",
        args: &["check"],
        source: |n| {
            items_then_a_frontend(n, |i| {
                format!(
                    "let w{i} = {}\nbackend b{i} {{ server s = 10.0.0.1:80 {{ weight = w{i} }} }}",
                    i % 200
                )
            })
        },
    },
    Kind {
        name: "backends with one template, a field of it misspelt (errors)",
        args: &["check"],
        source: |n| {
            let mut src = String::from(HEAD);
            src.push_str("let service = { balance = leastconn, retrys = 2 }\n");
            src.push_str(
                &items_then_a_frontend(n, |i| {
                    format!("backend b{i} with service {{ server s = 10.0.0.1:80 }}")
                })[HEAD.len()..],
            );
            src
        },
    },
    Kind {
        name: "environments, one condition listing them",
        args: &["check"],
        source: |n| envs_and_condition(n, 'e'),
    },
    Kind {
        name: "environments, a plan between two versions",
        args: &["diff", "--base", ".", "--format", "json"],
        source: |n| {
            let mut src = String::new();
            for i in 0..n {
                let _ = writeln!(src, "env e{i}");
            }
            src.push_str(ONE_BACKEND);
            src.push_str("frontend f { bind :80 default -> b }\n");
            src
        },
    },
    Kind {
        name: "unknown environments on one line (errors)",
        args: &["check"],
        source: |n| envs_and_condition(n, 'x'),
    },
    Kind {
        name: "errors, two in each backend",
        args: &["check"],
        source: |n| {
            items_then_a_frontend(n, |i| {
                format!("backend b{i} {{ balance = leastcon\n server s = 10.0.0.1:99999 }}")
            })
        },
    },
    Kind {
        name: "backends asking for passwords, routed over plain HTTP (warnings)",
        args: &["check"],
        source: |n| {
            let mut src = String::from(HEAD);
            for i in 0..n {
                let _ = writeln!(
                    src,
                    "backend b{i} {{ basic_auth = {{ users = [{{ name = \"u\", password_hash = secret(\"H\") }}] }}\n server s = 10.0.0.1:80 }}"
                );
            }
            src.push_str("frontend f {\n  bind :80\n");
            for i in 0..n {
                let _ = writeln!(src, "  route path prefix \"/p{i}/\" -> b{i}");
            }
            src.push_str("  default -> b0\n}\n");
            src
        },
    },
    Kind {
        name: "routes to misspelt backends (errors)",
        args: &["check", "--format", "sarif"],
        source: |n| routes_to(n, |i| format!("route path prefix \"/p{i}\" -> bb{i}")),
    },
    Kind {
        name: "servers in one backend, guards violated",
        args: &["check", "--format", "gitlab"],
        source: |n| {
            let mut src = String::from("env production\nguard server_maxconn\nbackend b {\n");
            for i in 0..n {
                let _ = writeln!(
                    src,
                    "  server s{i} = 10.{}.{}.{}:80",
                    (i >> 16) & 255,
                    (i >> 8) & 255,
                    i & 255
                );
            }
            src.push_str("}\nfrontend f { bind :80 default -> b }\n");
            src
        },
    },
];

/// The best of three runs of `haptic args` in `dir`, after a pause each.
fn best_of_three(haptic: &str, args: &[&str], dir: &Path) -> Duration {
    (0..3)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(300));
            let start = Instant::now();
            let status = Command::new(haptic)
                .args(args)
                .arg(dir)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run haptic");
            // 0: clean; 1: the diagnostics the kind is made of.
            assert!(
                matches!(status.code(), Some(0 | 1)),
                "haptic {args:?} exited with {status}"
            );
            start.elapsed()
        })
        .min()
        .expect("three runs")
}

fn main() {
    let n: usize = std::env::var("HAPTIC_SCALING_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(4_000);
    let haptic = env!("CARGO_BIN_EXE_haptic");
    println!(
        "| objects of one kind | command | {n} | {} | factor |",
        4 * n
    );
    println!("|---|---|---:|---:|---:|");
    let mut square = Vec::new();
    for kind in KINDS {
        let times: Vec<Duration> = [n, 4 * n]
            .into_iter()
            .map(|count| {
                let dir = tempfile::tempdir().unwrap();
                std::fs::write(
                    dir.path().join("haptic.toml"),
                    "[project]\nname = \"scaling\"\nhaproxy = \"2.6\"\n",
                )
                .unwrap();
                std::fs::write(dir.path().join("main.hap"), (kind.source)(count)).unwrap();
                best_of_three(haptic, kind.args, dir.path())
            })
            .collect();
        let factor = times[1].as_secs_f64() / times[0].as_secs_f64();
        println!(
            "| {} | `haptic {}` | {:.3} s | {:.3} s | {factor:.1} |",
            kind.name,
            kind.args.join(" "),
            times[0].as_secs_f64(),
            times[1].as_secs_f64(),
        );
        // Fixed costs make small runs grow less than 4 times; noise can
        // make them grow a little more. The square would be 16.
        if factor > 8.0 {
            square.push(kind.name);
        }
    }
    if !square.is_empty() {
        println!();
        println!("grew much faster than the objects: {}", square.join("; "));
        std::process::exit(1);
    }
}
