//! `runtime.txt`: Runtime API commands, one per line.
//!
//! Without a base version the script sets the declared runtime state of
//! every server (address, port, weight, state, maxconn); sending it to a
//! HAProxy that runs the matching `haproxy.cfg` changes nothing, and
//! sending it after drift made by hand repairs it. With a base version it
//! holds the commands of [`crate::plan`]'s hitless changes, and its header
//! says whether a reload is still needed, and why.

use std::fmt;
use std::sync::Arc;

use super::{digits, Out, Provenance};
use crate::model::{self, Host, ServerState};
use crate::plan::EnvPlan;

/// `backend/server`, as the Runtime API names a server. The names are
/// shared: every command about one server holds the same two strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerRef {
    pub backend: Arc<str>,
    pub server: Arc<str>,
}

impl ServerRef {
    pub fn new(backend: &str, server: &str) -> ServerRef {
        ServerRef {
            backend: Arc::from(backend),
            server: Arc::from(server),
        }
    }
}

impl fmt::Display for ServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.backend, self.server)
    }
}

/// One Runtime API command. Names come from identifiers (letters, digits,
/// `_`, `-`), values are numbers and IP addresses, and `add server` options
/// are words the checker validated, so no command can carry a `;` or a
/// newline; [`Action::write`] asserts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SetAddr(ServerRef, std::net::IpAddr, u16),
    /// `set server B/S fqdn NAME`: a server named by DNS, renamed (it
    /// has a resolver; the port stays).
    SetFqdn(ServerRef, String),
    SetWeight(ServerRef, u32),
    SetState(ServerRef, ServerState),
    SetMaxconn(ServerRef, u32),
    /// `add server B/S ADDR OPTIONS`: the options are the whole server line
    /// after its name (`add server` ignores `default-server`).
    AddServer(ServerRef, String),
    EnableHealth(ServerRef),
    ShutdownSessions(ServerRef),
    DelServer(ServerRef),
    /// `add map MAP KEY BACKEND`: a route that is a new entry of the
    /// routes map (see [`crate::lower::RouteMap`]).
    AddMap(MapEntry),
    /// `set map MAP KEY BACKEND`: an entry that sends elsewhere.
    SetMap(MapEntry),
    /// `del map MAP KEY`: an entry removed (`backend` is what it was).
    DelMap(MapEntry),
}

/// An entry of the routes map, as the Runtime API names it: the map's path
/// on the HAProxy host, the key (`lower::map_key`: `host@frontend/`,
/// `host@frontend/prefix`, `host@frontend=/exact`) and the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub map: Arc<str>,
    pub key: String,
    pub backend: String,
}

/// What a command does to its server, with the values it needs, borrowed:
/// the one spelling of every command, written by [`Action::write`] for
/// [`Command`]s and for the declared state of every server of a large
/// `runtime.txt` alike, which has no need for command values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    SetAddr(std::net::IpAddr, u16),
    SetFqdn(&'a str),
    SetWeight(u32),
    SetState(ServerState),
    SetMaxconn(u32),
    AddServer(&'a str),
    EnableHealth,
    ShutdownSessions,
    DelServer,
}

impl Action<'_> {
    /// Appends the command doing this to `backend/server` to `out`, without
    /// its newline.
    pub fn write(self, out: &mut String, backend: &str, server: &str) {
        // Numbers, addresses and state names are written here; only the
        // names and `add server`'s options come from the sources.
        let options = match self {
            Action::AddServer(options) => options,
            _ => "",
        };
        assert!(
            [backend, server, options]
                .iter()
                .all(|part| is_one_argument(part)),
            "runtime command built from unchecked input: {backend:?}/{server:?} {options:?}"
        );
        self.write_checked(out, &format!("{backend}/{server}"));
    }

    /// [`Action::write`] to `target` (`backend/server`), with the names
    /// already found safe.
    fn write_checked(self, out: &mut String, target: &str) {
        out.push_str(match self {
            Action::SetAddr(..)
            | Action::SetFqdn(_)
            | Action::SetWeight(_)
            | Action::SetState(_) => "set server ",
            Action::SetMaxconn(_) => "set maxconn server ",
            Action::AddServer(_) => "add server ",
            Action::EnableHealth => "enable health ",
            Action::ShutdownSessions => "shutdown sessions server ",
            Action::DelServer => "del server ",
        });
        out.push_str(target);
        match self {
            Action::SetAddr(ip, port) => {
                out.push_str(" addr ");
                digits::push_ip(out, &ip);
                out.push_str(" port ");
                digits::push_int(out, u64::from(port));
            }
            Action::SetFqdn(name) => {
                // The one value of a command that comes from the sources
                // (as a host name the checker validated).
                assert!(
                    crate::check::value::is_host_name(name),
                    "unchecked host name {name:?}"
                );
                out.push_str(" fqdn ");
                out.push_str(name);
            }
            Action::SetWeight(weight) => {
                out.push_str(" weight ");
                digits::push_int(out, u64::from(weight));
            }
            Action::SetState(state) => {
                out.push_str(" state ");
                out.push_str(state.name());
            }
            Action::SetMaxconn(maxconn) => {
                out.push(' ');
                digits::push_int(out, u64::from(maxconn));
            }
            Action::AddServer(options) => {
                out.push(' ');
                out.push_str(options);
            }
            Action::EnableHealth | Action::ShutdownSessions | Action::DelServer => {}
        }
    }
}

/// What a [`Command`] is about: a server and what it does to it, or the
/// verb (`add`, `set`, `del`) and the entry of a routes map command.
enum Parts<'a> {
    Server(&'a ServerRef, Action<'a>),
    Map(&'static str, &'a MapEntry),
}

/// Whether `part` cannot end a command or start another (`;`, a line break,
/// NUL).
fn is_one_argument(part: &str) -> bool {
    !part
        .bytes()
        .any(|b| matches!(b, b';' | b'\n' | b'\r' | b'\0'))
}

impl Command {
    pub fn line(&self) -> String {
        let mut line = String::new();
        self.write_line(&mut line);
        line
    }

    /// What the command is about, and what it does to it.
    fn parts(&self) -> Parts<'_> {
        let server = |s, action| Parts::Server(s, action);
        match self {
            Command::SetAddr(s, ip, port) => server(s, Action::SetAddr(*ip, *port)),
            Command::SetFqdn(s, name) => server(s, Action::SetFqdn(name)),
            Command::SetWeight(s, weight) => server(s, Action::SetWeight(*weight)),
            Command::SetState(s, state) => server(s, Action::SetState(*state)),
            Command::SetMaxconn(s, maxconn) => server(s, Action::SetMaxconn(*maxconn)),
            Command::AddServer(s, options) => server(s, Action::AddServer(options)),
            Command::EnableHealth(s) => server(s, Action::EnableHealth),
            Command::ShutdownSessions(s) => server(s, Action::ShutdownSessions),
            Command::DelServer(s) => server(s, Action::DelServer),
            Command::AddMap(entry) => Parts::Map("add", entry),
            Command::SetMap(entry) => Parts::Map("set", entry),
            Command::DelMap(entry) => Parts::Map("del", entry),
        }
    }

    /// Appends the command to `out`, without its newline.
    pub fn write_line(&self, out: &mut String) {
        match self.parts() {
            Parts::Server(target, action) => action.write(out, &target.backend, &target.server),
            Parts::Map(verb, entry) => {
                // The path is one the checker restricted to letters,
                // digits and `._/@+-`; the key a host name, `@`, an
                // identifier and a path of the characters it allowed
                // (`map_key`); the backend an identifier.
                let written: &[&str] = match verb {
                    "del" => &[&entry.map, &entry.key],
                    _ => &[&entry.map, &entry.key, &entry.backend],
                };
                assert!(
                    written.iter().all(|part| super::routes_map::is_word(part)),
                    "map command built from unchecked input: {entry:?}"
                );
                out.push_str(verb);
                out.push_str(" map ");
                out.push_str(&entry.map);
                out.push(' ');
                out.push_str(&entry.key);
                if verb != "del" {
                    out.push(' ');
                    out.push_str(&entry.backend);
                }
            }
        }
    }

    /// Whether HAProxy's reply means "not now": `del server` is refused
    /// while connections are still attached to the server, which
    /// `shutdown sessions` has just closed but HAProxy may not have
    /// released yet (idle connections in a reuse pool, for one).
    pub fn retry_later(&self, reply: &str) -> bool {
        matches!(self, Command::DelServer(_))
            && reply.trim() == "Server still has connections attached to it, cannot remove it."
    }

    /// Whether HAProxy's reply means the command was carried out.
    pub fn accepts(&self, reply: &str) -> bool {
        let reply = reply.trim();
        match self {
            Command::AddServer(..) => reply == "New server registered.",
            Command::DelServer(..) => reply == "Server deleted.",
            Command::SetAddr(..) => {
                reply.starts_with("IP changed from")
                    || reply.starts_with("port changed from")
                    || reply.starts_with("no need to change")
                    || reply.starts_with("nothing changed")
            }
            // HAProxy 2.6 spells the second "FDQN".
            Command::SetFqdn(..) => {
                reply.contains(" changed its FQDN from ")
                    || reply.starts_with("no need to change the FDQN")
                    || reply.starts_with("no need to change the FQDN")
            }
            _ => reply.is_empty(),
        }
    }
}

/// What sets the declared state of one server (four actions).
pub fn declared_state(s: &model::Server) -> impl Iterator<Item = Action<'_>> {
    // `set server addr` takes an IP; a server named by DNS gets its name
    // (the address is what HAProxy resolves; the port, the configuration's).
    let addr = match &s.host {
        Host::Ip(ip) => Action::SetAddr(*ip, s.port),
        Host::Name(name) => Action::SetFqdn(name),
    };
    [
        addr,
        Action::SetWeight(s.effective_weight()),
        Action::SetState(s.state),
        // 0 means "no limit", as when the configuration sets none.
        Action::SetMaxconn(s.maxconn.unwrap_or(0)),
    ]
    .into_iter()
}

fn header(provenance: &Provenance) -> String {
    let mut out = String::new();
    for line in provenance.header_lines("runtime.txt") {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn commands(out: &mut String, commands: &[Command]) {
    for command in commands {
        command.write_line(out);
        out.push('\n');
    }
}

/// `runtime.txt` without a base version.
pub fn emit(env: &model::Env, provenance: &Provenance, out: &mut Out) {
    out.text().push_str(&preamble(provenance));
    if env.routes_map().is_some() {
        // `add map` twice adds a key twice, and `set map` refuses a key
        // that is missing: the map's entries are not set idempotently here.
        out.text().push_str(
            "# the routes map's entries are in routes.map; `haptic apply` converges them\n",
        );
    }
    write_declared(out, &env.backends);
}

/// The comment lines that begin `runtime.txt` without a base version.
pub fn preamble(provenance: &Provenance) -> String {
    let mut out = header(provenance);
    out.push_str(
        "# no base version: these commands set the declared state of every server (idempotent)\n",
    );
    out.push_str("# reload needed: no\n");
    out
}

/// Appends the commands that set the declared state of every server of
/// `backends`.
pub fn write_declared(out: &mut Out, backends: &[model::Backend]) {
    let servers: usize = backends.iter().map(|be| be.servers.len()).sum();
    // About 38 bytes a command, four commands a server.
    out.expect(servers * 4 * 38);
    let mut target = String::new();
    for be in backends {
        let text = out.text();
        assert!(
            is_one_argument(&be.name),
            "unchecked backend name {:?}",
            be.name
        );
        for s in &be.servers {
            // Each name is looked at once, and `backend/server` spelled
            // once, not once a command.
            assert!(
                is_one_argument(&s.name),
                "unchecked server name {:?}",
                s.name
            );
            target.clear();
            target.push_str(&be.name);
            target.push('/');
            target.push_str(&s.name);
            for action in declared_state(s) {
                action.write_checked(text, &target);
                text.push('\n');
            }
        }
        out.part_done();
    }
}

/// `runtime.txt` against a base version: the hitless changes of `plan`.
pub fn emit_plan(plan: &EnvPlan, base: &str, provenance: &Provenance) -> String {
    let mut out = header(provenance);
    out.push_str(&format!("# base version: {base}\n"));
    let reasons = plan.reload_reasons();
    if reasons.is_empty() {
        out.push_str("# reload needed: no\n");
    } else {
        out.push_str("# reload needed: yes\n");
        for (object, reason) in reasons {
            out.push_str(&format!("#   {object}: {reason}\n"));
        }
    }
    let commands_of_plan = plan.runtime_commands();
    out.reserve(commands_of_plan.len() * 48);
    commands(&mut out, &commands_of_plan);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_spelled_as_the_runtime_api_reads_them() {
        let target = ServerRef::new("api", "s1");
        let line = |command: Command| command.line();
        assert_eq!(
            line(Command::SetAddr(
                target.clone(),
                "10.0.0.1".parse().unwrap(),
                8080
            )),
            "set server api/s1 addr 10.0.0.1 port 8080"
        );
        assert_eq!(
            line(Command::SetWeight(target.clone(), 0)),
            "set server api/s1 weight 0"
        );
        assert_eq!(
            line(Command::SetState(target.clone(), ServerState::Drain)),
            "set server api/s1 state drain"
        );
        assert_eq!(
            line(Command::SetMaxconn(target.clone(), 100)),
            "set maxconn server api/s1 100"
        );
        assert_eq!(
            line(Command::AddServer(
                target.clone(),
                "10.0.0.2:80 weight 5".into()
            )),
            "add server api/s1 10.0.0.2:80 weight 5"
        );
        assert_eq!(
            line(Command::EnableHealth(target.clone())),
            "enable health api/s1"
        );
        assert_eq!(
            line(Command::ShutdownSessions(target.clone())),
            "shutdown sessions server api/s1"
        );
        assert_eq!(
            line(Command::SetFqdn(target.clone(), "api2.internal".into())),
            "set server api/s1 fqdn api2.internal"
        );
        assert_eq!(line(Command::DelServer(target)), "del server api/s1");
    }

    /// The replies of HAProxy 2.6 to `set server fqdn`, as a real one gave
    /// them (the second with its "FDQN"); a refusal is not accepted.
    #[test]
    fn fqdn_replies_are_read_as_haproxy_writes_them() {
        let command = Command::SetFqdn(ServerRef::new("app", "app2"), "b.internal".into());
        assert!(command.accepts(
            "app/app2 changed its FQDN from a.internal to b.internal by 'stats socket command'\n"
        ));
        assert!(command.accepts("no need to change the FDQN by 'stats socket command'"));
        assert!(
            !command.accepts("set server <b>/<s> fqdn failed because no resolution is configured.")
        );
        assert!(!command.accepts("could not update app/app2 FQDN by 'stats socket command'"));
    }

    /// A DNS name is the one value of a command that comes from the
    /// sources: one that is not a host name is not written.
    #[test]
    fn an_fqdn_that_is_not_a_host_name_is_refused() {
        for name in ["", "a b", "a;del server x/y", "a\nb", "${X}"] {
            let command = Command::SetFqdn(ServerRef::new("b", "s"), name.into());
            assert!(
                std::panic::catch_unwind(|| command.line()).is_err(),
                "{name:?} was written"
            );
        }
    }

    /// The checker lets no such name through; should one slip by, no
    /// second command may ride on it.
    #[test]
    fn a_name_that_could_end_a_command_is_refused() {
        for (backend, server, options) in [
            ("a;b", "s", ""),
            ("a", "s\nshutdown frontend f", ""),
            ("a", "s\r", ""),
            ("a\0", "s", ""),
            ("a", "s", "10.0.0.1:80; del server a/t"),
        ] {
            let target = ServerRef::new(backend, server);
            let command = if options.is_empty() {
                Command::SetWeight(target, 1)
            } else {
                Command::AddServer(target, options.into())
            };
            let result = std::panic::catch_unwind(|| command.line());
            assert!(
                result.is_err(),
                "{backend:?} {server:?} {options:?} was written"
            );
        }
    }

    /// The declared state of every server checks each name once, not once
    /// a command: still, none that could end a command is written.
    #[test]
    fn declared_state_refuses_a_name_that_could_end_a_command() {
        let files: std::collections::BTreeMap<String, Vec<u8>> = [
            ("haptic.toml", "[project]\nname = \"t\"\nhaproxy = \"2.6\"\n"),
            (
                "main.hap",
                "env production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :80  default -> b }\n",
            ),
        ]
        .into_iter()
        .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
        .collect();
        let compilation =
            crate::driver::compile_from(std::path::Path::new("."), &files).expect("compiles");
        let backends = &compilation.envs[0].backends;
        let mut out = Out::string();
        write_declared(&mut out, backends);
        let text = out.finish().unwrap();
        assert!(text.contains("\nset server b/s state ready\n"), "{text}");
        for (backend, server) in [("b;x", "s"), ("b", "s\nshutdown frontend f")] {
            let mut hostile = backends.clone();
            hostile[0].name = backend.to_string();
            hostile[0].servers[0].name = server.into();
            let result = std::panic::catch_unwind(|| {
                let mut out = Out::string();
                write_declared(&mut out, &hostile);
            });
            assert!(result.is_err(), "{backend:?}/{server:?} was written");
        }
    }
}
