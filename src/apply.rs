//! `haptic apply`: converge a live HAProxy to the declared runtime state of
//! one environment through its Runtime API.
//!
//! The commands are computed from what HAProxy reports now (so drift made by
//! hand is repaired), sent one by one with every reply checked, stopped at
//! the first refusal, and the end state is read again to verify it.

use std::time::Duration;

use crate::emit::routes_map::is_word;
use crate::emit::runtime::{Command, MapEntry, ServerRef};
use crate::model::{self, Host, ServerState};
use crate::plan::{self, Apply};
use crate::runtime_api::{self, Endpoint, Live, LiveServer};

/// One difference between the live and the declared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// What differs, as a plan names it: `backend api / server s1`,
    /// `frontend edge / route host api.example.com`.
    pub object: String,
    pub field: &'static str,
    pub live: String,
    pub declared: String,
}

/// The object a server's drift is about, as a plan names it.
fn server_object(target: &ServerRef) -> String {
    plan::Object::Server(target.backend.to_string(), target.server.to_string()).to_string()
}

/// Reads what `converge` compares for `env`: backends and servers, and the
/// entries of its routes map when it has one.
pub fn read(endpoint: &Endpoint, env: &model::Env, timeout: Duration) -> std::io::Result<Live> {
    let mut live = runtime_api::read_live(endpoint, timeout)?;
    runtime_api::read_info(endpoint, &mut live, timeout)?;
    if let Some(path) = env.routes_map() {
        live.routes_map = Some(runtime_api::read_map(endpoint, path, timeout)?);
    }
    Ok(live)
}

/// What it takes to converge: commands, the drift they repair, and what
/// only a reload can do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Convergence {
    pub commands: Vec<Command>,
    pub drift: Vec<Drift>,
    pub reload_reasons: Vec<String>,
}

/// The HAProxy version whose Runtime API `apply` counts on: the project's
/// target, or the running HAProxy's when that one is older (or older than
/// any haptic supports: then the oldest). Where the running release is of
/// that version's branch, it decides what a backport added
/// ([`model::Runtime`]).
fn runs_version(env: &model::Env, live: &Live) -> model::Haproxy {
    match live.release.as_deref() {
        Some(release) => model::Haproxy::of_release(release)
            .unwrap_or(model::Haproxy::V2_6)
            .min(env.haproxy),
        None => env.haproxy,
    }
}

/// What `apply` tells first when it counts on another HAProxy version than
/// the project's target ([`runs_version`]): the running one is older, or
/// says a version haptic cannot read.
pub fn version_note(env: &model::Env, live: &Live) -> Option<String> {
    let release = live.release.as_deref()?;
    let counted = runs_version(env, live);
    // Of the branch counted on, the release itself decides (a backport).
    let what = match counted.has_release(release) {
        true => "that release".to_string(),
        false => counted.name().to_string(),
    };
    (counted != env.haproxy).then(|| {
        format!(
            "HAProxy {release} runs here and the project targets {}: apply counts on what {what} takes",
            env.haproxy.name(),
        )
    })
}

/// Compares the live state with the declared environment.
pub fn converge(env: &model::Env, live: &Live) -> Convergence {
    let mut out = Convergence::default();
    // What the Runtime API cannot change (frontends, TLS, defaults,
    // backend settings): the running configuration says what it is.
    let declared = crate::emit::haproxy_cfg::fingerprint_description(
        &crate::emit::haproxy_cfg::reload_fingerprint(env),
    );
    match &live.description {
        Some(running) if *running == declared => {}
        Some(running) if running.starts_with("haptic:") => out.reload_reasons.push(format!(
            "HAProxy runs another configuration than the declared one, in what only a reload \
             changes (frontends, routes that are not map entries, TLS, defaults, backend \
             settings): it runs `{}`, the sources make `{declared}`",
            running.escape_debug()
        )),
        _ => out.reload_reasons.push(
            "HAProxy runs a configuration that haptic did not write (it has no \
             `description haptic:...`): a reload starts the declared one"
                .to_string(),
        ),
    }
    let running: std::collections::HashSet<&str> =
        live.backends.iter().map(String::as_str).collect();
    let runtime = model::Runtime {
        version: runs_version(env, live),
        release: live.release.as_deref(),
    };
    for be in &env.backends {
        if !running.contains(be.name.as_str()) {
            out.reload_reasons.push(format!(
                "backend `{}` is not running: new backends need a reload",
                be.name
            ));
            continue;
        }
        for s in &be.servers {
            let target = ServerRef::new(&be.name, &s.name);
            match live.servers.get(&(be.name.clone(), s.name.to_string())) {
                None => {
                    out.drift.push(Drift {
                        object: server_object(&target),
                        field: "server",
                        live: "absent".into(),
                        declared: "present".into(),
                    });
                    match plan::add_server(be, s, target, runtime) {
                        Apply::Runtime(commands) => out.commands.extend(commands),
                        Apply::Reload(reason) => out
                            .reload_reasons
                            .push(format!("backend {} / server {}: {reason}", be.name, s.name)),
                    }
                }
                Some(l) => server(be, s, l, target, &mut out),
            }
        }
        let declared: std::collections::HashSet<&str> =
            be.servers.iter().map(|s| s.name.as_str()).collect();
        // The live servers of this backend: a range of the map, which is
        // ordered by backend, not a pass over every server.
        let of_backend = live
            .servers
            .range((be.name.clone(), String::new())..)
            .take_while(|((b, _), _)| *b == be.name);
        for (key, l) in of_backend.filter(|((_, n), _)| !declared.contains(n.as_str())) {
            let (backend, name) = key;
            let target = ServerRef::new(backend, name);
            out.drift.push(Drift {
                object: server_object(&target),
                field: "server",
                live: "present".into(),
                declared: "absent".into(),
            });
            if l.fqdn.is_some() {
                out.reload_reasons.push(format!(
                    "backend {backend} / server {name}: {}",
                    plan::dns_reload::REMOVE
                ));
                continue;
            }
            out.commands.extend([
                Command::SetState(target.clone(), ServerState::Maint),
                Command::ShutdownSessions(target.clone()),
                Command::DelServer(target),
            ]);
        }
    }
    // `show backend` lists the stats page too (a `listen` section), and the
    // backends that answer redirect and deny routes.
    let stats = env.stats.as_ref().map(|_| "stats");
    let redirects = crate::lower::answer_backends(env);
    let declared: std::collections::HashSet<&str> = env
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .chain(stats)
        .chain(redirects.iter().map(String::as_str))
        .collect();
    for backend in live
        .backends
        .iter()
        .filter(|b| !declared.contains(b.as_str()))
    {
        out.reload_reasons.push(format!(
            "backend `{backend}` is running but not declared: removing it needs a reload"
        ));
    }
    routes_map(env, live, &running, &mut out);
    out
}

/// The entries of the routes map: each declared one that is missing is
/// added, each that sends elsewhere is set, each live one the sources do
/// not declare is deleted. A key found more than once (an `add map` sent
/// twice by hand) is deleted, then added once.
fn routes_map(
    env: &model::Env,
    live: &Live,
    running: &std::collections::HashSet<&str>,
    out: &mut Convergence,
) {
    let Some(map) = crate::lower::RouteMap::of(env) else {
        return;
    };
    let Some(Some(entries)) = &live.routes_map else {
        out.reload_reasons.push(format!(
            "the routes map `{}` is not loaded: HAProxy runs a configuration without it",
            map.path
        ));
        return;
    };
    let mut live_entries: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (key, value) in entries {
        live_entries.entry(key).or_default().push(value);
    }
    // What HAProxy holds may have been added by hand: a word that a
    // command could not carry is shown quoted, and left to a reload.
    let shown = |s: &str| {
        if is_word(s) {
            s.to_string()
        } else {
            format!("{s:?}")
        }
    };
    // An entry's route, as a plan names it.
    let object = |key: &str| match crate::lower::parse_map_key(key) {
        Some((host, frontend, path)) if is_word(key) => plan::Object::Route(
            frontend.to_string(),
            model::route_key(Some(host), path.as_ref()),
        )
        .to_string(),
        _ => format!("routes map / key {}", shown(key)),
    };
    let entry = |key: &str, backend: &str| MapEntry {
        map: map.path.into(),
        key: key.to_string(),
        backend: backend.to_string(),
    };
    let mut declared = std::collections::HashSet::new();
    for (key, backend) in &map.entries {
        let backend = backend.as_ref();
        declared.insert(key.as_str());
        if !running.contains(backend) {
            // Said already: the backend needs a reload, which loads the map.
            continue;
        }
        let values = live_entries
            .get(key.as_str())
            .map_or(&[][..], Vec::as_slice);
        if values == [backend] {
            continue;
        }
        out.drift.push(Drift {
            object: object(key),
            field: "backend",
            live: if values.is_empty() {
                "absent".into()
            } else {
                values
                    .iter()
                    .map(|v| shown(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            declared: backend.to_string(),
        });
        out.commands.extend(match values.len() {
            0 => vec![Command::AddMap(entry(key, backend))],
            1 => vec![Command::SetMap(entry(key, backend))],
            _ => vec![
                Command::DelMap(entry(key, backend)),
                Command::AddMap(entry(key, backend)),
            ],
        });
    }
    let mut extra: Vec<(&str, &Vec<&str>)> = live_entries
        .iter()
        .filter(|(key, _)| !declared.contains(*key))
        .map(|(key, values)| (*key, values))
        .collect();
    extra.sort();
    for (key, values) in extra {
        out.drift.push(Drift {
            object: object(key),
            field: "backend",
            live: values
                .iter()
                .map(|v| shown(v))
                .collect::<Vec<_>>()
                .join(", "),
            declared: "absent".into(),
        });
        if is_word(key) {
            out.commands.push(Command::DelMap(entry(key, values[0])));
        } else {
            out.reload_reasons.push(format!(
                "the routes map holds the key {}, which no command can name: a reload loads the map again",
                shown(key)
            ));
        }
    }
}

fn server(
    be: &model::Backend,
    s: &model::Server,
    live: &LiveServer,
    target: ServerRef,
    out: &mut Convergence,
) {
    let mut drift = |field: &'static str, live: String, declared: String| {
        out.drift.push(Drift {
            object: server_object(&target),
            field,
            live,
            declared,
        });
    };
    let mut commands = Vec::new();
    let live_address = match &live.fqdn {
        Some(name) => format!("{name}:{}", live.port),
        None => format!("{}:{}", live.addr, live.port),
    };
    let declared_address = crate::lower::address(Some(&s.host), s.port);
    // What the Runtime API cannot change about the address (see
    // `plan::update_server`, which says the same of a change of sources).
    let mut reload = |reason: &str| {
        out.reload_reasons
            .push(format!("backend {} / server {}: {reason}", be.name, s.name))
    };
    match (&s.host, &live.fqdn) {
        (Host::Ip(ip), None) => {
            if live.addr != ip.to_string() || live.port != s.port {
                drift("address", live_address, declared_address);
                commands.push(Command::SetAddr(target.clone(), *ip, s.port));
            }
        }
        (Host::Name(name), Some(running)) => {
            if !running.eq_ignore_ascii_case(name) || live.port != s.port {
                drift("address", live_address, declared_address);
                if live.port == s.port {
                    commands.push(Command::SetFqdn(target.clone(), name.clone()));
                } else {
                    reload(plan::dns_reload::PORT);
                }
            }
        }
        (Host::Name(_), None) => {
            drift("address", live_address, declared_address);
            reload(plan::dns_reload::NAME_FOR_IP);
        }
        (Host::Ip(_), Some(_)) => {
            drift("address", live_address, declared_address);
            reload(plan::dns_reload::IP_FOR_NAME);
        }
    }
    let weight = s.effective_weight();
    // A server drained by the configuration runs with weight 0 and no
    // drain flag; one drained at runtime keeps its weight and the flag.
    let state_ok = match s.state {
        ServerState::Ready => !live.maint && !live.drain,
        ServerState::Drain => !live.maint && (live.drain || live.weight == 0),
        ServerState::Maint => live.maint,
    };
    let weight_ok = live.weight == weight || (s.state == ServerState::Drain && live.drain);
    if !weight_ok {
        drift("weight", live.weight.to_string(), weight.to_string());
        if !be.balance.is_dynamic() && weight != 0 && weight != live.initial_weight {
            reload(&format!(
                "`{}` accepts only a weight of 0 or the configured one at runtime",
                be.balance.name()
            ));
        } else {
            commands.push(Command::SetWeight(target.clone(), weight));
        }
    }
    if !state_ok {
        let live_state = if live.maint {
            "maint"
        } else if live.drain {
            "drain"
        } else {
            "ready"
        };
        drift("state", live_state.into(), s.state.name().into());
        commands.push(Command::SetState(target.clone(), s.state));
    }
    // What only a reload changes on a running server, where HAProxy shows
    // it (`show servers state`, `show stat`). Its `send_proxy`, `slowstart`,
    // `http2` and TLS details it does not show: the reload fingerprint holds the
    // set of them each backend's servers use (`unreported_option_sets`).
    let has_check = s.check && be.check.is_some();
    for (field, live, declared) in [
        ("tls", live.tls, s.tls.is_some()),
        ("check", live.check, has_check),
        ("backup", live.backup, s.backup),
    ] {
        if let Some(live) = live.filter(|live| *live != declared) {
            drift(field, live.to_string(), declared.to_string());
            reload(&format!("changing a server's `{field}` needs a reload"));
        }
    }
    // A backend that balances by a hash places a server by its number,
    // which only a reload changes (a HAProxy started on a configuration
    // that numbered its servers in the order written).
    if be.balance.is_hash() {
        let id = crate::lower::server_id(&s.name);
        if live.id != id {
            drift("id", live.id.to_string(), id.to_string());
            reload("a server's number (`id`, which places it on the hash ring) needs a reload");
        }
    }
    let maxconn = s.maxconn.unwrap_or(0);
    if live.maxconn != maxconn {
        drift("maxconn", live.maxconn.to_string(), maxconn.to_string());
        commands.push(Command::SetMaxconn(target, maxconn));
    }
    out.commands.extend(commands);
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every command was accepted and the end state verified.
    Converged { sent: Vec<Command> },
    /// A command was refused (or the connection failed) part-way.
    Failed {
        sent: Vec<Command>,
        failed: Command,
        reply: String,
        not_sent: Vec<Command>,
    },
    /// Everything was accepted, but HAProxy still differs afterwards.
    NotConverged {
        sent: Vec<Command>,
        remaining: Convergence,
    },
}

/// How long a command HAProxy answers "not now" to is tried again.
const RETRY_FOR: Duration = Duration::from_secs(5);

/// Sends `command` and returns HAProxy's reply (or why there is none). A
/// reply that means "not now" ([`Command::retry_later`]) is followed by
/// another try, after 50 ms, then twice as long each time, for at most
/// `retry_for` in all.
fn send_until_done(
    endpoint: &Endpoint,
    command: &Command,
    timeout: Duration,
    retry_for: Duration,
) -> String {
    let line = command.line();
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let reply = match runtime_api::send(endpoint, &line, timeout) {
            Ok(reply) => reply,
            Err(e) => format!("no reply: {e}"),
        };
        if !command.retry_later(&reply) || start.elapsed() + pause > retry_for {
            return reply;
        }
        std::thread::sleep(pause);
        pause *= 2;
    }
}

/// Sends `commands`, checking each reply; then reads the state again.
pub fn run(
    env: &model::Env,
    endpoint: &Endpoint,
    commands: Vec<Command>,
    timeout: Duration,
) -> std::io::Result<Outcome> {
    let mut sent = Vec::new();
    let mut rest = commands.into_iter();
    while let Some(command) = rest.next() {
        let reply = send_until_done(endpoint, &command, timeout, RETRY_FOR);
        if !command.accepts(&reply) {
            return Ok(Outcome::Failed {
                sent,
                failed: command,
                reply: reply.trim().to_string(),
                not_sent: rest.collect(),
            });
        }
        sent.push(command);
    }
    let live = read(endpoint, env, timeout)?;
    let remaining = converge(env, &live);
    if remaining.commands.is_empty() {
        Ok(Outcome::Converged { sent })
    } else {
        Ok(Outcome::NotConverged { sent, remaining })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// The project of one file, `main.hap`, targeting HAProxy `haproxy`.
    fn compile(haproxy: &str, main: &str) -> crate::driver::Compilation {
        let files: std::collections::BTreeMap<String, Vec<u8>> = [
            (
                "haptic.toml".to_string(),
                format!("[project]\nname = \"t\"\nhaproxy = \"{haproxy}\"\n"),
            ),
            ("main.hap".to_string(), main.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
        crate::driver::compile_from(std::path::Path::new("."), &files).unwrap()
    }

    /// A server missing from a backend with sticky sessions is added by
    /// `add server` with its cookie where the running HAProxy and the
    /// target both take it (3.0), and left to a reload where either does
    /// not.
    #[test]
    fn a_sticky_server_is_added_where_the_running_haproxy_takes_its_cookie() {
        let source = "env production\n\
             backend a {\n  sticky_cookie = \"SRV\"\n  server s1 = 10.0.0.1:80\n  server s2 = 10.0.0.2:80\n}\n\
             frontend f {\n  bind :80\n  default -> a\n}\n";
        // The target, the running release, whether the server is added,
        // whether apply says first that it counts on an older version.
        for (target, release, added, older) in [
            ("3.0", Some("3.0.11-1+deb13u4"), true, false),
            ("3.0", Some("3.1.2"), true, false),
            ("3.0", None, true, false),
            ("3.0", Some("2.6.12-1+deb12u4"), false, true),
            ("3.0", Some("2.8.5"), false, true),
            ("3.0", Some("unknown"), false, true),
            // Taken by a backport: the running release decides.
            ("3.0", Some("2.8.30-0ubuntu0.24.04.2"), true, true),
            ("3.0", Some("2.6.18"), true, true),
            ("2.8", Some("2.8.8"), true, false),
            ("2.8", Some("2.8.7"), false, false),
            ("2.6", Some("2.6.22-1"), true, false),
            ("2.6", Some("2.6.17"), false, false),
            ("2.6", Some("2.6"), false, false),
            // The target caps it: a release of another branch than the
            // version counted on does not decide.
            ("2.6", Some("3.0.11-1+deb13u4"), false, false),
            ("2.6", Some("2.8.30"), false, false),
            ("2.8", Some("3.0.11-1+deb13u4"), false, false),
        ] {
            let c = compile(target, source);
            assert!(!c.has_errors(), "{:?}", c.diagnostics);
            let env = &c.envs[0];
            let live = Live {
                backends: vec!["a".into()],
                servers: Default::default(),
                description: None,
                routes_map: None,
                release: release.map(str::to_string),
            };
            let convergence = converge(env, &live);
            let lines: Vec<String> = convergence.commands.iter().map(Command::line).collect();
            let add = "add server a/s1 10.0.0.1:80 weight 100 cookie s1".to_string();
            let case = format!("target {target}, running {release:?}: {lines:?}");
            assert_eq!(lines.contains(&add), added, "{case}");
            let reasons = &convergence.reload_reasons;
            let refused = reasons.iter().any(|r| r.contains("`cookie`"));
            assert_eq!(refused, !added, "{case}: {reasons:?}");
            // Told first where the running HAProxy is older than the target.
            assert_eq!(version_note(env, &live).is_some(), older, "{case}");
            if !added {
                let counted = runs_version(env, &live).name();
                let release =
                    release.filter(|r| *r == counted || r.starts_with(&format!("{counted}.")));
                let said = reasons.iter().any(|r| match release {
                    Some(release) => r.contains(&format!("on HAProxy {release} (")),
                    None => {
                        r.contains(&format!("on HAProxy {counted} before {counted}."))
                            && r.contains("which haptic counts on here")
                    }
                });
                assert!(said, "{case}: {reasons:?}");
            }
        }
    }

    /// A server of a backend balanced by a hash that runs under another
    /// number than its name's (a HAProxy started on a configuration that
    /// numbered servers in the order written) needs a reload: no command
    /// changes a number. One under its own number needs nothing.
    #[test]
    fn a_hashed_server_under_another_number_needs_a_reload() {
        let source = "env production\n\
             backend a {\n  balance = source\n  server s1 = 10.0.0.1:80\n}\n\
             frontend f {\n  bind :80\n  default -> a\n}\n";
        let c = compile("2.6", source);
        let env = &c.envs[0];
        for (id, reload) in [(1, true), (crate::lower::server_id("s1"), false)] {
            let running = LiveServer {
                id,
                addr: "10.0.0.1".into(),
                port: 80,
                fqdn: None,
                maint: false,
                drain: false,
                unresolved: false,
                weight: 100,
                initial_weight: 100,
                maxconn: 0,
                tls: Some(false),
                check: Some(false),
                backup: Some(false),
            };
            let live = Live {
                backends: vec!["a".into()],
                servers: [(("a".to_string(), "s1".to_string()), running)].into(),
                description: None,
                routes_map: None,
                release: None,
            };
            let convergence = converge(env, &live);
            let numbered = convergence
                .reload_reasons
                .iter()
                .any(|r| r.contains("`id`"));
            assert_eq!(numbered, reload, "{id}: {:?}", convergence.reload_reasons);
            assert!(
                convergence.commands.is_empty(),
                "{:?}",
                convergence.commands
            );
        }
    }

    /// `apply`'s note names the running release where it decides (one of
    /// the branch it counts on), and the branch where it does not.
    #[test]
    fn the_version_note_names_what_apply_counts_on() {
        let c = compile(
            "3.0",
            "env production\nbackend a { server s = 10.0.0.1:80 }\n",
        );
        for (release, what) in [
            ("2.8.30-0ubuntu0.24.04.2", "that release"),
            ("2.6.12-1+deb12u4", "that release"),
            ("2.7.1", "2.6"),
            ("unknown", "2.6"),
        ] {
            let live = Live {
                backends: vec!["a".into()],
                servers: Default::default(),
                description: None,
                routes_map: None,
                release: Some(release.into()),
            };
            let note = version_note(&c.envs[0], &live).expect("older than the target");
            assert!(
                note.ends_with(&format!("apply counts on what {what} takes")),
                "{release}: {note}"
            );
        }
    }

    /// A routes map entry added by hand with a key or value that no
    /// command may carry (HAProxy's CLI unescapes `\;`, and takes quotes
    /// and control characters) is shown quoted and left to a reload; the
    /// commands are still written.
    #[test]
    fn live_map_entries_no_command_can_name_are_left_to_a_reload() {
        let c = compile(
            "2.6",
            "env production\ndefaults { routes_map = \"/m.map\" }\n\
             backend a { server s = 10.0.0.1:80 }\n\
             frontend f {\n  bind :80\n  route host \"a.example.com\" -> a\n}\n",
        );
        let live = Live {
            backends: vec!["a".into()],
            servers: Default::default(),
            routes_map: Some(Some(vec![
                ("a.example.com@f/".into(), "x'y".into()),
                ("bad;key\u{1b}".into(), "a".into()),
                ("b.example.com@f/v1/".into(), "q\"".into()),
            ])),
            description: None,
            release: None,
        };
        let convergence = converge(&c.envs[0], &live);
        let lines: Vec<String> = convergence.commands.iter().map(Command::line).collect();
        assert!(
            lines.contains(&"set map /m.map a.example.com@f/ a".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"del map /m.map b.example.com@f/v1/".to_string()),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| !l.contains("bad")), "{lines:?}");
        assert!(
            convergence
                .reload_reasons
                .iter()
                .any(|r| r.contains("\"bad;key\\u{1b}\"")),
            "{:?}",
            convergence.reload_reasons
        );
        let shown: Vec<String> = convergence
            .drift
            .iter()
            .map(|d| format!("{}: {}", d.object, d.live))
            .collect();
        assert!(
            shown.iter().all(|s| !s.chars().any(char::is_control)),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"frontend f / route host a.example.com: \"x'y\"".to_string()),
            "{shown:?}"
        );
        assert!(
            shown.contains(
                &"frontend f / route host b.example.com path prefix /v1/: \"q\\\"\"".to_string()
            ),
            "{shown:?}"
        );
    }

    /// A Runtime API that refuses `del server` while connections are
    /// attached `refusals` times, then deletes; returns its address and
    /// the number of commands it received.
    fn fake_runtime_api(refusals: usize) -> (String, std::thread::JoinHandle<usize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = std::thread::spawn(move || {
            let mut received = 0;
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                if line.trim() == "quit" {
                    return received;
                }
                received += 1;
                let reply = if received <= refusals {
                    "Server still has connections attached to it, cannot remove it.\n"
                } else {
                    "Server deleted.\n"
                };
                stream.write_all(reply.as_bytes()).unwrap();
            }
            received
        });
        (addr, handle)
    }

    fn stop(addr: &str) {
        let _ = runtime_api::send(
            &Endpoint::Tcp(addr.to_string()),
            "quit",
            Duration::from_secs(1),
        );
    }

    #[test]
    fn del_server_is_tried_again_while_connections_are_attached() {
        let (addr, fake) = fake_runtime_api(3);
        let command = Command::DelServer(ServerRef::new("app", "old"));
        let endpoint = Endpoint::Tcp(addr.clone());
        let reply = send_until_done(&endpoint, &command, Duration::from_secs(1), RETRY_FOR);
        stop(&addr);
        assert!(command.accepts(&reply), "{reply}");
        assert_eq!(fake.join().unwrap(), 4);
    }

    #[test]
    fn del_server_gives_up_after_a_while() {
        let (addr, fake) = fake_runtime_api(usize::MAX);
        let command = Command::DelServer(ServerRef::new("app", "old"));
        let endpoint = Endpoint::Tcp(addr.clone());
        let reply = send_until_done(
            &endpoint,
            &command,
            Duration::from_secs(1),
            Duration::from_millis(300),
        );
        stop(&addr);
        assert!(command.retry_later(&reply) && !command.accepts(&reply));
        // 50 + 100 ms of pauses fit in 300 ms, 50 + 100 + 200 do not.
        assert_eq!(fake.join().unwrap(), 3);
    }
}
