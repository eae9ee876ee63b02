//! A small client for HAProxy's Runtime API (the `stats socket`), and a
//! reader of `show servers state`.
//!
//! The socket is used in its non-interactive mode: one connection per
//! command, the reply read until HAProxy closes the connection. Connect and
//! read have timeouts so a stuck HAProxy cannot hang a deploy.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Sends one command and returns HAProxy's reply.
pub fn send(socket: &Path, command: &str, timeout: Duration) -> std::io::Result<String> {
    if command.contains(['\n', '\r', ';', '\0']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a Runtime API command is one line without `;`",
        ));
    }
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(command.as_bytes())?;
    stream.write_all(b"\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

/// The part of a server's live state that haptic declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveServer {
    pub addr: String,
    pub port: u16,
    /// In maintenance, whether set by the configuration or at runtime.
    pub maint: bool,
    /// Draining (admin state), set at runtime.
    pub drain: bool,
    /// The user weight HAProxy runs the server with.
    pub weight: u32,
}

impl LiveServer {
    /// The weight traffic is balanced with: 0 while draining or in
    /// maintenance.
    pub fn effective_weight(&self) -> u32 {
        if self.drain || self.maint {
            0
        } else {
            self.weight
        }
    }
}

/// Admin-state masks of `show servers state` (HAProxy's `SRV_ADMF_MAINT`:
/// forced, inherited or resolution maintenance; `SRV_ADMF_DRAIN`). The
/// configuration bit (`CMAINT`, 0x04) is left set after a server written
/// `disabled` is put back to ready, so it does not mean maintenance.
const ADMF_MAINT: u32 = 0x01 | 0x02 | 0x20;
const ADMF_DRAIN: u32 = 0x08 | 0x10;

/// Parses the reply to `show servers state` (format version 1) into
/// `(backend, server) → state`.
pub fn parse_servers_state(reply: &str) -> Result<BTreeMap<(String, String), LiveServer>, String> {
    let mut lines = reply.lines();
    match lines.next() {
        Some("1") => {}
        other => return Err(format!("unexpected `show servers state` format: {other:?}")),
    }
    let header: Vec<&str> = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .ok_or("missing header line")?
        .split(' ')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("missing column {name}"))
    };
    let (be, srv, addr, admin, uweight, port) = (
        column("be_name")?,
        column("srv_name")?,
        column("srv_addr")?,
        column("srv_admin_state")?,
        column("srv_uweight")?,
        column("srv_port")?,
    );
    let mut servers = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        let get = |i: usize| fields.get(i).copied().ok_or(format!("short line: {line}"));
        let number = |i: usize| -> Result<u32, String> {
            get(i)?
                .parse()
                .map_err(|_| format!("bad number in: {line}"))
        };
        let admin_state = number(admin)?;
        servers.insert(
            (get(be)?.to_string(), get(srv)?.to_string()),
            LiveServer {
                addr: get(addr)?.to_string(),
                port: number(port)? as u16,
                maint: admin_state & ADMF_MAINT != 0,
                drain: admin_state & ADMF_DRAIN != 0,
                weight: number(uweight)?,
            },
        );
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_servers_state() {
        let reply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 b 2 d 127.0.0.1 2 8 50 50 0 1 0 2 0 0 0 0 - 9002 -\n3 b 3 m 10.0.0.3 0 5 100 100 0 1 0 0 8 0 0 0 - 9003 -\n\n";
        let state = parse_servers_state(reply).unwrap();
        let d = &state[&("b".into(), "d".into())];
        assert!(
            d.drain && !d.maint && d.weight == 50 && d.effective_weight() == 0 && d.port == 9002
        );
        let m = &state[&("b".into(), "m".into())];
        assert!(m.maint && m.addr == "10.0.0.3");
    }

    #[test]
    fn refuses_a_second_command() {
        let err = send(
            Path::new("/nonexistent"),
            "show info; shutdown frontend f",
            Duration::from_secs(1),
        );
        assert_eq!(err.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    }
}
