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

use super::{digits, Provenance};
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
        ServerRef::in_backend(Arc::from(backend), server)
    }

    /// A server of a backend whose name is already shared.
    pub fn in_backend(backend: Arc<str>, server: &str) -> ServerRef {
        ServerRef {
            backend,
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
/// newline; [`Command::write_line`] asserts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SetAddr(ServerRef, std::net::IpAddr, u16),
    SetWeight(ServerRef, u32),
    SetState(ServerRef, ServerState),
    SetMaxconn(ServerRef, u32),
    /// `add server B/S ADDR OPTIONS`: the options are the whole server line
    /// after its name (`add server` ignores `default-server`).
    AddServer(ServerRef, String),
    EnableHealth(ServerRef),
    ShutdownSessions(ServerRef),
    DelServer(ServerRef),
}

impl Command {
    pub fn line(&self) -> String {
        let mut line = String::new();
        self.write_line(&mut line);
        line
    }

    /// Appends the command to `out`, without its newline.
    pub fn write_line(&self, out: &mut String) {
        let start = out.len();
        let (verb, target) = match self {
            Command::SetAddr(s, ..) | Command::SetWeight(s, _) | Command::SetState(s, _) => {
                ("set server ", s)
            }
            Command::SetMaxconn(s, _) => ("set maxconn server ", s),
            Command::AddServer(s, _) => ("add server ", s),
            Command::EnableHealth(s) => ("enable health ", s),
            Command::ShutdownSessions(s) => ("shutdown sessions server ", s),
            Command::DelServer(s) => ("del server ", s),
        };
        out.push_str(verb);
        out.push_str(&target.backend);
        out.push('/');
        out.push_str(&target.server);
        match self {
            Command::SetAddr(_, ip, port) => {
                out.push_str(" addr ");
                digits::push_ip(out, ip);
                out.push_str(" port ");
                digits::push_int(out, u64::from(*port));
            }
            Command::SetWeight(_, weight) => {
                out.push_str(" weight ");
                digits::push_int(out, u64::from(*weight));
            }
            Command::SetState(_, state) => {
                out.push_str(" state ");
                out.push_str(state.name());
            }
            Command::SetMaxconn(_, maxconn) => {
                out.push(' ');
                digits::push_int(out, u64::from(*maxconn));
            }
            Command::AddServer(_, options) => {
                out.push(' ');
                out.push_str(options);
            }
            Command::EnableHealth(_) | Command::ShutdownSessions(_) | Command::DelServer(_) => {}
        }
        let line = &out[start..];
        assert!(
            !line
                .bytes()
                .any(|b| matches!(b, b';' | b'\n' | b'\r' | b'\0')),
            "runtime command built from unchecked input: {line:?}"
        );
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
            _ => reply.is_empty(),
        }
    }
}

/// The commands that set the declared state of one server.
pub fn server_state(backend: &Arc<str>, s: &model::Server) -> Vec<Command> {
    let target = ServerRef::in_backend(backend.clone(), &s.name);
    let mut commands = Vec::with_capacity(4);
    // `set server addr` takes an IP; servers named by DNS keep the address
    // HAProxy resolved.
    if let Host::Ip(ip) = s.host {
        commands.push(Command::SetAddr(target.clone(), ip, s.port));
    }
    commands.push(Command::SetWeight(target.clone(), s.effective_weight()));
    commands.push(Command::SetState(target.clone(), s.state));
    // 0 means "no limit", as when the configuration sets none.
    commands.push(Command::SetMaxconn(target, s.maxconn.unwrap_or(0)));
    commands
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
pub fn emit(env: &model::Env, provenance: &Provenance) -> String {
    let mut out = preamble(provenance);
    write_declared(&mut out, &env.backends);
    out
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
pub fn write_declared(out: &mut String, backends: &[model::Backend]) {
    let servers: usize = backends.iter().map(|be| be.servers.len()).sum();
    // About 45 bytes a command, four commands a server.
    out.reserve(servers * 4 * 48);
    for be in backends {
        let backend: Arc<str> = Arc::from(be.name.as_str());
        for s in &be.servers {
            commands(out, &server_state(&backend, s));
        }
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
