//! `runtime.txt`: Runtime API commands, one per line.
//!
//! Without a base version the script sets the declared runtime state of
//! every server (address, port, weight, state, maxconn); sending it to a
//! HAProxy that runs the matching `haproxy.cfg` changes nothing, and
//! sending it after drift made by hand repairs it.

use super::Provenance;
use crate::model::{self, Host, ServerState};

/// One Runtime API command. Names come from identifiers (letters, digits,
/// `_`, `-`) and values are numbers and IP addresses, so no command can
/// carry a `;` or a newline; [`Command::line`] asserts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SetAddr {
        backend: String,
        server: String,
        ip: std::net::IpAddr,
        port: u16,
    },
    SetWeight {
        backend: String,
        server: String,
        weight: u32,
    },
    SetState {
        backend: String,
        server: String,
        state: ServerState,
    },
    SetMaxconn {
        backend: String,
        server: String,
        maxconn: u32,
    },
}

impl Command {
    pub fn line(&self) -> String {
        let line = match self {
            Command::SetAddr {
                backend,
                server,
                ip,
                port,
            } => {
                format!("set server {backend}/{server} addr {ip} port {port}")
            }
            Command::SetWeight {
                backend,
                server,
                weight,
            } => {
                format!("set server {backend}/{server} weight {weight}")
            }
            Command::SetState {
                backend,
                server,
                state,
            } => {
                format!("set server {backend}/{server} state {}", state.name())
            }
            Command::SetMaxconn {
                backend,
                server,
                maxconn,
            } => {
                format!("set maxconn server {backend}/{server} {maxconn}")
            }
        };
        assert!(
            !line.contains([';', '\n', '\r', '\0']),
            "runtime command built from unchecked input: {line:?}"
        );
        line
    }
}

/// The commands that set the declared state of every server.
pub fn declared_state(env: &model::Env) -> Vec<Command> {
    let mut commands = Vec::new();
    for be in &env.backends {
        for s in &be.servers {
            let (backend, server) = (be.name.clone(), s.name.clone());
            // `set server addr` takes an IP; servers named by DNS keep the
            // address HAProxy resolved.
            if let Host::Ip(ip) = s.host {
                commands.push(Command::SetAddr {
                    backend: backend.clone(),
                    server: server.clone(),
                    ip,
                    port: s.port,
                });
            }
            commands.push(Command::SetWeight {
                backend: backend.clone(),
                server: server.clone(),
                weight: s.effective_weight(),
            });
            commands.push(Command::SetState {
                backend: backend.clone(),
                server: server.clone(),
                state: s.state,
            });
            // 0 means "no limit", as when the configuration sets none.
            commands.push(Command::SetMaxconn {
                backend,
                server,
                maxconn: s.maxconn.unwrap_or(0),
            });
        }
    }
    commands
}

pub fn emit(env: &model::Env, provenance: &Provenance) -> String {
    let mut out = String::new();
    for line in provenance.header_lines("runtime.txt") {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(
        "# no base version: these commands set the declared state of every server (idempotent)\n",
    );
    out.push_str("# reload needed: no\n");
    for command in declared_state(env) {
        out.push_str(&command.line());
        out.push('\n');
    }
    out
}
