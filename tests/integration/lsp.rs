//! `haptic lsp`: diagnostics published as the user types, in memory and
//! through the real binary on standard input and output.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

use crate::support::{self, TempProject};

const BAD: &str = "env production\nbackend web {\n  server a = 10.0.0.1:99999\n}\nfrontend f { bind :8080  default -> web }\n";
const GOOD: &str = "env production\nbackend web {\n  server a = 10.0.0.1:8080\n}\nfrontend f { bind :8080  default -> web }\n";

fn uri(path: &std::path::Path) -> String {
    lsp_types::Url::from_file_path(path).unwrap().to_string()
}

/// A project of one file, `text`, open in a started client.
fn open_single(text: &str) -> (TempProject, String, Client) {
    let project = TempProject::single(text);
    let main = uri(&project.path().join("main.hap"));
    let client = Client::start();
    client.open(&main, text);
    (project, main, client)
}

/// `didOpen`'s parameters.
fn opened(uri: &str, text: &str) -> Value {
    json!({ "textDocument": { "uri": uri, "languageId": "haptic", "version": 1, "text": text } })
}

/// `didChange`'s parameters: the whole new text.
fn changed(uri: &str, version: i32, text: &str) -> Value {
    json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] })
}

struct Client {
    connection: Connection,
    server: std::thread::JoinHandle<()>,
}

impl Client {
    fn start() -> Client {
        Client::start_with(json!({}))
    }

    /// A client that tells the server it has `capabilities`.
    fn start_with(capabilities: Value) -> Client {
        let (server, connection) = Connection::memory();
        let server = std::thread::spawn(move || haptic::lsp::serve(&server).unwrap());
        let client = Client { connection, server };
        client.request(1, "initialize", json!({ "capabilities": capabilities }));
        client.notify("initialized", json!({}));
        client
    }

    /// The next request the server sends.
    fn server_request(&self) -> Request {
        loop {
            let message = self
                .connection
                .receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            if let Message::Request(request) = message {
                return request;
            }
        }
    }

    /// A client whose first notifications are all waiting before the
    /// server reads any of them, as when an editor sends keystrokes faster
    /// than the server checks.
    fn start_with_waiting(notifications: &[(&str, Value)]) -> Client {
        let (server, connection) = Connection::memory();
        let send = |message| connection.sender.send(message).unwrap();
        let init = json!({ "capabilities": {} });
        send(Message::Request(Request::new(
            RequestId::from(1),
            "initialize".into(),
            init,
        )));
        send(Message::Notification(Notification::new(
            "initialized".into(),
            json!({}),
        )));
        for (method, params) in notifications {
            send(Message::Notification(Notification::new(
                method.to_string(),
                params.clone(),
            )));
        }
        let server = std::thread::spawn(move || haptic::lsp::serve(&server).unwrap());
        Client { connection, server }
    }

    fn request(&self, id: i32, method: &str, params: Value) -> Value {
        self.response(id, method, params)
            .result
            .unwrap_or(Value::Null)
    }

    /// The whole response to a request: its result or its error.
    fn response(&self, id: i32, method: &str, params: Value) -> lsp_server::Response {
        let request = Request::new(RequestId::from(id), method.to_string(), params);
        self.connection
            .sender
            .send(Message::Request(request))
            .unwrap();
        loop {
            match self
                .connection
                .receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap()
            {
                Message::Response(r) => return r,
                _ => continue,
            }
        }
    }

    fn open(&self, uri: &str, text: &str) {
        self.notify("textDocument/didOpen", opened(uri, text));
    }

    fn change(&self, uri: &str, version: i32, text: &str) {
        self.notify("textDocument/didChange", changed(uri, version, text));
    }

    /// Where the name at `line`:`character` (0-based) of `uri` is declared.
    fn definition(&self, id: i32, uri: &str, line: u32, character: u32) -> Value {
        self.at(id, "textDocument/definition", uri, line, character)
    }

    /// The text of the hover at `line`:`character` (0-based) of `uri`;
    /// empty when there is none.
    fn hover(&self, id: i32, uri: &str, line: u32, character: u32) -> String {
        let hover = self.at(id, "textDocument/hover", uri, line, character);
        hover["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The answer to `method` at `line`:`character` (0-based) of `uri`.
    fn at(&self, id: i32, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            id,
            method,
            json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }),
        )
    }

    /// The code actions for `range` of `uri`, given the diagnostics there.
    fn code_actions(&self, id: i32, uri: &str, range: &Value, diagnostics: &[Value]) -> Value {
        self.request(
            id,
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": range,
                "context": { "diagnostics": diagnostics },
            }),
        )
    }

    /// The quick fixes offered for `diagnostics` (at the first one's
    /// range): each one's title and its edits of `uri`.
    fn quick_fixes(&self, id: i32, uri: &str, diagnostics: &[Value]) -> Vec<(String, Vec<Value>)> {
        let actions = self.code_actions(id, uri, &diagnostics[0]["range"], diagnostics);
        actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let edits = a["edit"]["changes"][uri].as_array().unwrap().clone();
                (a["title"].as_str().unwrap().to_string(), edits)
            })
            .collect()
    }

    fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.connection
            .sender
            .send(Message::Notification(n))
            .unwrap();
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics(&self, uri: &str) -> Vec<Value> {
        loop {
            let message = self
                .connection
                .receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            if let Message::Notification(n) = message {
                if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri {
                    return n.params["diagnostics"].as_array().unwrap().clone();
                }
            }
        }
    }

    fn stop(self) {
        self.request(99, "shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.server.join().unwrap();
    }
}

#[test]
fn diagnostics_follow_the_buffer() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let client = Client::start();
    client.open(&main, BAD);
    let diags = client.diagnostics(&main);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E0201");
    assert_eq!(diags[0]["source"], "haptic");
    assert_eq!(diags[0]["severity"], 1);
    assert_eq!(
        diags[0]["range"]["start"],
        json!({ "line": 2, "character": 22 })
    );
    assert_eq!(
        diags[0]["range"]["end"],
        json!({ "line": 2, "character": 27 })
    );
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("help: expected a value within 1..=65535"));

    client.change(&main, 2, GOOD);
    assert!(
        client.diagnostics(&main).is_empty(),
        "fixing the buffer clears the diagnostics"
    );
    client.stop();
}

/// Changes that wait while the server is busy are checked together: what
/// is published is the last text's diagnostics, once, not one stale
/// report after another.
#[test]
fn waiting_changes_are_checked_once() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let last = BAD.replace("99999", "70000");
    let mut burst = vec![("textDocument/didOpen", opened(&main, BAD))];
    for version in 2..40 {
        let text = if version == 39 { last.as_str() } else { BAD };
        burst.push(("textDocument/didChange", changed(&main, version, text)));
    }
    let client = Client::start_with_waiting(&burst);
    let diags = client.diagnostics(&main);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0]["message"].as_str().unwrap().contains("`70000`"),
        "the first report is the last text's: {diags:?}"
    );
    // The next report answers the next change: none of the burst is left.
    client.change(&main, 40, GOOD);
    assert!(client.diagnostics(&main).is_empty());
    client.stop();
}

/// Formatting an open document is `haptic fmt` of the buffer, as one edit
/// of the whole text; a buffer with a syntax error is left alone.
#[test]
fn formatting_is_haptic_fmt_of_the_buffer() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let client = Client::start();
    let messy = "env production\nbackend web{server a=10.0.0.1:8080}\nfrontend f {bind :8080\n  default  ->web}";
    client.open(&main, messy);
    let format = |id: i32| {
        client.request(
            id,
            "textDocument/formatting",
            json!({ "textDocument": { "uri": main }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
    };
    let edits = format(2);
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], haptic::fmt::format(messy));
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 3, "character": 17 })
    );

    client.change(&main, 2, &haptic::fmt::format(messy));
    assert_eq!(format(3), json!([]), "formatted already");

    client.change(&main, 3, "env production\nbackend web {");
    assert_eq!(format(4), Value::Null, "a syntax error: left alone");
    client.stop();
}

/// Go to definition: a backend used in one file and declared in another,
/// a constant declared in two `if` branches, and a standard-library name
/// (not a file the editor can open).
#[test]
fn definitions_are_found_across_files_and_branches() {
    let main_text = "import std.tls\nimport \"teams/web.hap\"\nenv staging\nenv production\nif env == staging { let port = 8080 } else { let port = 80 }\nfrontend f {\n  bind :port\n  default -> web\n}\n// éweb\n";
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        ("main.hap", main_text),
        ("teams/web.hap", "backend web { server a = 10.0.0.1:80 }\n"),
    ]);
    let main = uri(&project.path().join("main.hap"));
    let team = uri(&project.path().join("teams/web.hap"));
    let client = Client::start();
    client.open(&main, main_text);
    let at = |id: i32, line: u32, character: u32| client.definition(id, &main, line, character);
    // `web` in `default -> web` (line 7), cursor inside the name.
    let found = at(2, 7, 14);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["uri"], team);
    assert_eq!(
        found[0]["range"]["start"],
        json!({ "line": 0, "character": 8 })
    );
    assert_eq!(
        found[0]["range"]["end"],
        json!({ "line": 0, "character": 11 })
    );
    // `port` in `bind :port` (line 6): declared in both branches.
    let found = at(3, 6, 9);
    let lines: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["range"]["start"])
        .collect();
    assert_eq!(
        lines,
        [
            &json!({ "line": 4, "character": 24 }),
            &json!({ "line": 4, "character": 49 })
        ]
    );
    // `std` and `tls` of `import std.tls` (line 0) name no declaration.
    assert_eq!(at(4, 0, 12), Value::Null);
    // A name right after a wider character (`// éweb`, line 9): the word
    // starts after the whole character.
    let found = at(5, 9, 6);
    assert_eq!(found[0]["uri"], team, "{found}");
    client.stop();
}

/// Definitions come from the last check of the project: they follow the
/// editor's buffers, and a project with no open document is read for the
/// request.
#[test]
fn definitions_follow_the_buffers() {
    let main_text =
        "import \"web.hap\"\nenv production\nfrontend f {\n  bind :80\n  default -> web\n}\n";
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        ("main.hap", main_text),
        ("web.hap", "backend web { server a = 10.0.0.1:80 }\n"),
    ]);
    let main = uri(&project.path().join("main.hap"));
    let web = uri(&project.path().join("web.hap"));
    let client = Client::start();
    let web_at = |id: i32| client.definition(id, &main, 4, 14);
    // Nothing opened yet: the project is read from disk for the request.
    let found = web_at(2);
    assert_eq!(found[0]["uri"], web, "{found}");
    client.open(&web, "backend web { server a = 10.0.0.1:80 }\n");
    // The declaration moves down a line in the buffer, not on disk.
    client.change(&web, 2, "\nbackend web { server a = 10.0.0.1:80 }\n");
    let found = web_at(3);
    assert_eq!(
        found[0]["range"]["start"],
        json!({ "line": 1, "character": 8 }),
        "{found}"
    );
    // Renamed in the buffer: `web` is declared nowhere.
    client.change(&web, 3, "backend www { server a = 10.0.0.1:80 }\n");
    assert_eq!(web_at(4), Value::Null);
    client.stop();
}

/// A project whose `main.hap` routes to backend `web` of
/// `teams/web.hap`, which holds a misspelt balance algorithm (E0202).
fn project_with_a_team_file() -> TempProject {
    TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        (
            "main.hap",
            "import \"teams/web.hap\"\nenv production\nfrontend f { bind :8080  default -> web }\n",
        ),
        (
            "teams/web.hap",
            "backend web { balance = roundrobbin  server a = 10.0.0.1:80 }\n",
        ),
    ])
}

#[test]
fn errors_in_other_files_are_published_for_those_files() {
    let project = project_with_a_team_file();
    let main = uri(&project.path().join("main.hap"));
    let team = uri(&project.path().join("teams/web.hap"));
    let client = Client::start();
    let text = std::fs::read_to_string(project.path().join("main.hap")).unwrap();
    client.open(&main, &text);
    let diags = client.diagnostics(&team);
    assert_eq!(diags[0]["code"], "E0202");
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `roundrobin`?"));
    client.stop();
}

#[test]
fn the_binary_speaks_lsp_on_stdio() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_haptic"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |value: Value| {
        let body = value.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let mut receive = || -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    send(
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }),
    );
    let init = receive();
    assert_eq!(init["result"]["capabilities"]["textDocumentSync"], 1);
    send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": main, "languageId": "haptic", "version": 1, "text": BAD } } }));
    let published = receive();
    assert_eq!(published["method"], "textDocument/publishDiagnostics");
    assert_eq!(published["params"]["diagnostics"][0]["code"], "E0201");
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    assert_eq!(receive()["id"], 2);
    send(json!({ "jsonrpc": "2.0", "method": "exit" }));
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A new buffer that is not saved and not imported yet is told so (W0007)
/// at its start, with a quick fix: an import of it after the entry file's
/// last import. Applying the fix clears the warning.
#[test]
fn a_new_file_is_told_it_is_not_imported_until_it_is() {
    let entry = format!("// the entry\nimport std.tls\n{GOOD}");
    let project = TempProject::single(&entry);
    let main = uri(&project.path().join("main.hap"));
    let new = uri(&project.path().join("teams/new.hap"));
    let client = Client::start();
    client.open(&new, "backend extra { server a = 10.0.0.2:8080 }\n");
    let diags = client.diagnostics(&new);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "W0007");
    assert_eq!(diags[0]["severity"], 2);
    assert_eq!(
        diags[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );

    let actions = client.code_actions(2, &new, &diags[0]["range"], &diags);
    let actions = actions.as_array().expect("a list of code actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0]["title"],
        "import `teams/new.hap` from `main.hap`"
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["diagnostics"][0]["code"], "W0007");
    let edits = actions[0]["edit"]["changes"][&main].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    let at = json!({ "line": 2, "character": 0 });
    assert_eq!(edits[0]["range"], json!({ "start": at, "end": at }));
    assert_eq!(edits[0]["newText"], "import \"teams/new.hap\"\n");

    // The fix applied to the entry's buffer.
    let fixed = entry.replacen(
        "import std.tls\n",
        "import std.tls\nimport \"teams/new.hap\"\n",
        1,
    );
    client.open(&main, &fixed);
    loop {
        let diags = client.diagnostics(&new);
        if diags.iter().all(|d| d["code"] != "W0007") {
            break;
        }
    }
    // No fix is offered for a file that is imported.
    let actions = client.code_actions(3, &new, &json!({ "start": at, "end": at }), &[]);
    assert_eq!(actions, json!([]));
    client.stop();
}

/// An entry whose last import ends the file without a newline gets the
/// new import on a line of its own after it, not past the end.
#[test]
fn the_import_fix_after_a_last_line_without_newline() {
    let entry = format!("{GOOD}import std.tls");
    let project = TempProject::single(&entry);
    let main = uri(&project.path().join("main.hap"));
    let new = uri(&project.path().join("new.hap"));
    let client = Client::start();
    client.open(&new, "backend extra { server a = 10.0.0.2:8080 }\n");
    let diags = client.diagnostics(&new);
    let actions = client.code_actions(2, &new, &diags[0]["range"], &diags);
    let edit = &actions[0]["edit"]["changes"][&main][0];
    let end = json!({ "line": GOOD.lines().count(), "character": "import std.tls".len() });
    assert_eq!(edit["range"], json!({ "start": end, "end": end }));
    assert_eq!(edit["newText"], "\nimport \"new.hap\"");
    client.stop();
}

/// The project's files are walked again when a document is opened, saved
/// or closed, not at every change; a file deleted since is not reported in
/// between.
#[test]
fn files_made_or_deleted_on_disk_are_seen() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let (a, b) = (project.path().join("a.hap"), project.path().join("b.hap"));
    std::fs::write(&a, "backend a { server s = 10.0.0.2:8080 }\n").unwrap();
    let client = Client::start();
    client.open(&main, GOOD);
    let diags = client.diagnostics(&uri(&a));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "W0007");

    // Deleted: its warning is withdrawn at the next change.
    std::fs::remove_file(&a).unwrap();
    std::fs::write(&b, "backend b { server s = 10.0.0.3:8080 }\n").unwrap();
    client.change(&main, 2, GOOD);
    assert_eq!(client.diagnostics(&uri(&a)), Vec::<Value>::new());

    // Made: found when a document is saved.
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": main } }),
    );
    let diags = client.diagnostics(&uri(&b));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "W0007");
    client.stop();
}

/// A client that can watch files is asked to tell about `.hap` files and
/// manifests; when it does, the projects already checked that hold them
/// are checked again, so a file changed on disk and open in no editor (a
/// `git checkout`) does not keep its old diagnostics.
#[test]
fn files_changed_on_disk_are_checked_again() {
    let project = project_with_a_team_file();
    let main = uri(&project.path().join("main.hap"));
    let web = project.path().join("teams/web.hap");
    let client = Client::start_with(
        json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }),
    );
    let request = client.server_request();
    assert_eq!(request.method, "client/registerCapability");
    let registration = &request.params["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&Value> = registration["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["globPattern"])
        .collect();
    assert_eq!(globs, [&json!("**/*.hap"), &json!("**/haptic.toml")]);
    client
        .connection
        .sender
        .send(Message::Response(lsp_server::Response::new_ok(
            request.id,
            Value::Null,
        )))
        .unwrap();

    client.open(
        &main,
        &std::fs::read_to_string(project.path().join("main.hap")).unwrap(),
    );
    assert_eq!(client.diagnostics(&uri(&web))[0]["code"], "E0202");

    // Mended on disk, not in the editor.
    std::fs::write(
        &web,
        "backend web { balance = roundrobin  server a = 10.0.0.1:80 }\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&web), "type": 2 }] }),
    );
    assert_eq!(client.diagnostics(&uri(&web)), Vec::<Value>::new());

    // The manifest changed: a lint made an error is seen at once.
    std::fs::write(
        project.path().join("haptic.toml"),
        format!(
            "{}[lints]\nunused-definition = \"deny\"\n",
            support::MANIFEST
        ),
    )
    .unwrap();
    std::fs::write(
        &web,
        "let spare = 1\nbackend web { server a = 10.0.0.1:80 }\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [
            { "uri": uri(&project.path().join("haptic.toml")), "type": 2 },
            { "uri": uri(&web), "type": 2 },
        ] }),
    );
    let diags = client.diagnostics(&uri(&web));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "W0008");
    assert_eq!(diags[0]["severity"], 1, "denied: an error");
    assert_eq!(diags[0]["tags"], json!([1]), "unnecessary: faded");

    // Every mistake of the manifest is shown in it at once.
    let manifest = project.path().join("haptic.toml");
    std::fs::write(
        &manifest,
        "[project]\nname = \"test\"\nhaproxy = 2.6\nouts = \"x\"\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&manifest), "type": 2 }] }),
    );
    let diags = client.diagnostics(&uri(&manifest));
    let lines: Vec<&Value> = diags.iter().map(|d| &d["range"]["start"]["line"]).collect();
    assert_eq!(lines, [&json!(2), &json!(3)], "{diags:?}");
    assert!(diags.iter().all(|d| d["code"] == "E0005"), "{diags:?}");
    client.stop();
}

/// An unsaved buffer whose name no import could name (a control
/// character) is not offered as a file to import.
#[test]
fn a_buffer_no_import_can_name_is_not_listed() {
    let project = TempProject::single(BAD);
    let main = uri(&project.path().join("main.hap"));
    let odd = format!("{}/a%0Ab.hap", uri(project.path()));
    let client = Client::start();
    client.open(&odd, "backend odd { server s = 10.0.0.9:80 }\n");
    // Files are published in order of path: `a\nb.hap` before `main.hap`.
    loop {
        let message = client
            .connection
            .receiver
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let Message::Notification(n) = message else {
            continue;
        };
        assert_ne!(n.params["uri"], odd.as_str(), "{:?}", n.params);
        if n.params["uri"] == main.as_str() {
            assert_eq!(n.params["diagnostics"][0]["code"], "E0201");
            break;
        }
    }
    client.stop();
}

/// Completion offers what fits the place, with the project's names as
/// of its last check: a field's enum values, the backends after `->`.
#[test]
fn completion_offers_what_fits_the_place() {
    let (_project, main, client) = open_single(GOOD);
    // GOOD has no finding: nothing is published, so ask a definition to
    // know the check is done.
    client.definition(2, &main, 4, 34);
    let labels = |id: i32, line: u32, character: u32| -> Vec<String> {
        let items = client.at(id, "textDocument/completion", &main, line, character);
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let text = "env production\nbackend web {\n  balance = \n  server a = 10.0.0.1:8080\n}\nfrontend f { bind :8080  default -> \n}\n";
    client.change(&main, 2, text);
    assert_eq!(labels(3, 2, 12), haptic::model::Balance::NAMES);
    assert_eq!(labels(4, 5, 36), ["web"]);
    let fields = labels(5, 3, 0);
    assert!(fields.contains(&"timeout_server".to_string()), "{fields:?}");
    assert!(fields.contains(&"server".to_string()), "{fields:?}");
    // A field comes with what it does.
    let items = client.at(9, "textDocument/completion", &main, 3, 0);
    let item = |label: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["label"] == label)
            .cloned()
            .unwrap_or_default()
    };
    let doc = &item("sticky_cookie")["documentation"];
    assert_eq!(doc["kind"], "markdown", "{doc}");
    assert!(
        doc["value"]
            .as_str()
            .unwrap_or_default()
            .contains("keeps a client on one server"),
        "{doc}"
    );
    assert!(
        item("server")["documentation"].is_null(),
        "a statement, not a field"
    );
    let items = client.at(10, "textDocument/completion", &main, 2, 12);
    let leastconn = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "leastconn")
        .cloned()
        .unwrap_or_default();
    assert!(
        leastconn["documentation"]["value"]
            .as_str()
            .unwrap_or_default()
            .contains("fewest connections"),
        "{leastconn}"
    );

    // A backend whose block does not parse any more is still offered.
    let text = "env production\nbackend web {\n  balance = = \n}\nfrontend f { bind :8080  default -> \n}\n";
    client.change(&main, 3, text);
    let diags = client.diagnostics(&main);
    assert_eq!(diags[0]["code"], "E0001", "{diags:?}");
    assert_eq!(labels(6, 4, 36), ["web"]);

    // The fields of a record in a field, and of a record in a list.
    let text = "env production\ndefaults { dns = {  } }\nbackend web {\n  basic_auth = { users = [{  }] }\n  server a = 10.0.0.1:8080\n}\nfrontend f { bind :8080  default -> web\n}\n";
    client.change(&main, 4, text);
    let dns = labels(7, 1, 19);
    assert!(dns.contains(&"nameservers".to_string()), "{dns:?}");
    let user = labels(8, 3, 28);
    assert_eq!(user, ["name", "password_hash"]);
    client.stop();
}

/// Hovering a name shows where it is declared; hovering a field, its type
/// and what it does; hovering an enumeration's value, what it does.
#[test]
fn hover_shows_declarations_and_field_types() {
    let text = "env production\nlet app_port: port = 8080\nbackend web {\n  balance = leastconn\n  server a = 10.0.0.1:app_port { weight = 5 }\n}\nfrontend f { bind :8080  default -> web }\n";
    let (_project, main, client) = open_single(text);
    client.definition(2, &main, 6, 37);
    let hover = |id, line, character| client.hover(id, &main, line, character);
    assert_eq!(hover(3, 4, 26), "```haptic\nlet app_port: port = 8080\n```");
    assert_eq!(
        hover(4, 6, 37),
        "```haptic\nbackend web {\n  balance = leastconn\n  server a = 10.0.0.1:app_port { weight = 5 }\n}\n```"
    );
    assert!(
        hover(5, 3, 4).starts_with("`balance`: one of `roundrobin`"),
        "{}",
        hover(6, 3, 4)
    );
    assert_eq!(
        hover(7, 4, 35),
        format!(
            "`weight`: an integer within 0..=256\n\n{}",
            haptic::check::docs::field("server", "weight").unwrap()
        )
    );
    assert_eq!(
        hover(8, 3, 14),
        format!(
            "`balance = leastconn`: {}",
            haptic::check::docs::value("balance", "leastconn").unwrap()
        ),
        "an enum value: what it does"
    );
    client.stop();

    // A guard's name: what the rule requires.
    let text = "env production\nguard min_servers { count = 3 }\nbackend web { server a = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> web }\n";
    let (_project, main, client) = open_single(text);
    let hover = client.hover(2, &main, 1, 9);
    assert!(
        hover.starts_with("`guard min_servers`: every backend has `count` servers in service"),
        "{hover}"
    );
    client.stop();
}

/// Hovering `route` in an environment with a routes map says whether the
/// route is an entry of the map, with its key, or a rule, and why.
#[test]
fn hover_on_a_route_says_whether_it_is_a_map_entry() {
    let text = "env production\ndefaults { routes_map = \"/etc/haproxy/routes.map\" }\n\
                backend web { server a = 10.0.0.1:80 }\n\
                frontend f {\n  bind :8080\n  route host \"a.example.com\" path prefix \"/v1/\" -> web\n\
                route path exact \"/healthz\" -> web\n  route host \"b.example.com\" -> web\n  default -> web\n}\n";
    let (_project, main, client) = open_single(text);
    let hover = |id, line, character| client.hover(id, &main, line, character);
    assert_eq!(
        hover(2, 5, 4),
        "`production`: an entry of the routes map `/etc/haproxy/routes.map` \
         (`a.example.com@f/v1/`): its changes go live without a reload"
    );
    assert_eq!(
        hover(3, 7, 3),
        "`production`: a `use_backend` rule, not an entry of the routes map: route \
         `path exact /healthz` before it can match the same requests; its changes need a reload"
    );
    assert_eq!(
        hover(4, 6, 3),
        "`production`: a `use_backend` rule, not an entry of the routes map: it matches a \
         path alone; its changes need a reload"
    );
    client.stop();
}

/// References of a name: its uses in every file and branch, and its
/// declarations when the client asks for them.
#[test]
fn references_are_found_across_files_and_branches() {
    let main_text = "import \"teams/web.hap\"\nenv staging\nenv production\nlet port = 8080\nfrontend f {\n  bind :port\n  route host \"a.example.com\" -> web\n  if env == production { route host \"b.example.com\" -> web }\n  default -> web\n}\n";
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        ("main.hap", main_text),
        (
            "teams/web.hap",
            "backend web { server a = 10.0.0.1:port }\nguard health_check in production\n",
        ),
    ]);
    let main = uri(&project.path().join("main.hap"));
    let team = uri(&project.path().join("teams/web.hap"));
    let client = Client::start();
    client.open(&main, main_text);
    let places =
        |id: i32, line: u32, character: u32, declaration: bool| -> Vec<(String, u64, u64)> {
            let found = client.request(
                id,
                "textDocument/references",
                json!({
                    "textDocument": { "uri": main },
                    "position": { "line": line, "character": character },
                    "context": { "includeDeclaration": declaration },
                }),
            );
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let start = &l["range"]["start"];
                    (
                        l["uri"].as_str().unwrap().to_string(),
                        start["line"].as_u64().unwrap(),
                        start["character"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
    let m = |line, character| (main.clone(), line, character);
    let t = |line, character| (team.clone(), line, character);
    // `web`, from the default: three routes in main.hap.
    assert_eq!(places(2, 8, 14, false), [m(6, 32), m(7, 55), m(8, 13)]);
    assert_eq!(
        places(3, 8, 14, true),
        [m(6, 32), m(7, 55), m(8, 13), t(0, 8)]
    );
    // `port`: the bind and the server in the other file.
    assert_eq!(places(4, 3, 5, true), [m(3, 4), m(5, 8), t(0, 34)]);
    // `production`: its declaration, a condition and a guard.
    assert_eq!(places(5, 2, 6, true), [m(2, 4), m(7, 12), t(1, 22)]);
    client.stop();
}

/// One name in three namespaces (a constant, a backend and a frontend,
/// as HAProxy allows a frontend and a backend of one name): where the
/// cursor is says which one definition, references and hover are about.
#[test]
fn a_name_in_several_namespaces_is_told_apart_by_where_it_is_written() {
    let text = "env production\nlet www = 8080\nbackend www { server a = 10.0.0.1:www }\nfrontend www {\n  bind :80\n  default -> www\n}\n";
    let (_project, main, client) = open_single(text);
    let lines = |found: &Value| -> Vec<u64> {
        let mut lines: Vec<u64> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
            .collect();
        lines.sort();
        lines
    };
    // From the default: the backend. From the server's port: the constant.
    // From the frontend's own name: the frontend.
    assert_eq!(lines(&client.definition(2, &main, 5, 14)), [2]);
    assert_eq!(lines(&client.definition(3, &main, 2, 35)), [1]);
    assert_eq!(lines(&client.definition(4, &main, 3, 10)), [3]);
    let references = |id: i32, line: u32, character: u32| {
        client.request(
            id,
            "textDocument/references",
            json!({
                "textDocument": { "uri": main },
                "position": { "line": line, "character": character },
                "context": { "includeDeclaration": true },
            }),
        )
    };
    assert_eq!(
        lines(&references(5, 2, 9)),
        [2, 5],
        "the backend and its default"
    );
    assert_eq!(
        lines(&references(6, 1, 5)),
        [1, 2],
        "the constant and its use"
    );
    let hover = client.hover(7, &main, 5, 14);
    assert!(
        hover.contains("backend www {") && !hover.contains("frontend"),
        "{hover}"
    );
    // Marked occurrences in the buffer: each line and whether it declares
    // (write, 3) or uses (read, 2).
    let marked = |id: i32, line: u32, character: u32| -> Vec<(u64, u64)> {
        let found = client.at(id, "textDocument/documentHighlight", &main, line, character);
        found
            .as_array()
            .unwrap_or_else(|| panic!("{found}"))
            .iter()
            .map(|h| {
                (
                    h["range"]["start"]["line"].as_u64().unwrap(),
                    h["kind"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(marked(8, 5, 14), [(2, 3), (5, 2)], "the backend");
    assert_eq!(marked(9, 2, 35), [(1, 3), (2, 2)], "the constant");
    assert_eq!(marked(10, 3, 10), [(3, 3)], "the frontend");
    assert_eq!(
        client.at(11, "textDocument/documentHighlight", &main, 4, 3),
        Value::Null,
        "`bind` is no name"
    );
    client.stop();
}

/// A misspelt name is published with what replaces it, and the quick fix
/// for the diagnostic the client sends back writes it in its place.
#[test]
fn a_misspelling_has_a_quick_fix() {
    let text = "env production\nbackend web {\n  balance = roundrobbin\n  server a = 10.0.0.1:80\n}\nfrontend f { bind :8080  default -> web }\n";
    let (_project, main, client) = open_single(text);
    let diags = client.diagnostics(&main);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["data"]["replacement"], "roundrobin");
    let range = diags[0]["range"].clone();
    let actions = client.code_actions(2, &main, &range, &diags);
    assert_eq!(actions.as_array().unwrap().len(), 1, "{actions:#}");
    assert_eq!(actions[0]["title"], "replace with `roundrobin`");
    assert_eq!(actions[0]["isPreferred"], true);
    let edits = &actions[0]["edit"]["changes"][main.as_str()];
    assert_eq!(edits, &json!([{ "range": range, "newText": "roundrobin" }]));
    assert_eq!(range["start"], json!({ "line": 2, "character": 12 }));
    assert_eq!(range["end"], json!({ "line": 2, "character": 23 }));
    client.stop();
}

/// The outline of a document: its declarations, in `if` branches too, and
/// each backend's servers.
#[test]
fn the_outline_lists_declarations_and_servers() {
    let text = "import std.tls\nenv staging\nenv production\nlet port = 8080\ntls public = tls.modern { certs = \"/etc/haproxy/certs/\" }\ndefaults { retries = 2 }\nbackend web {\n  server a = 10.0.0.1:port\n  if env == production { server b = 10.0.0.2:port }\n}\nif env == staging { backend extra { server x = 10.0.0.9:80 } }\nfrontend f { bind :8080  default -> web }\nguard health_check\n";
    let (_project, main, client) = open_single(text);
    let symbols = client.request(
        2,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": main } }),
    );
    let names: Vec<(&str, u64)> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["kind"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("staging", 22),
            ("production", 22),
            ("port", 14),
            ("public", 23),
            ("defaults", 19),
            ("web", 5),
            ("extra", 5),
            ("f", 11),
            ("health_check", 24)
        ]
    );
    let web = &symbols[5];
    let servers: Vec<&str> = web["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["a", "b"]);
    assert_eq!(web["range"]["start"], json!({ "line": 6, "character": 0 }));
    assert_eq!(web["range"]["end"], json!({ "line": 9, "character": 1 }));
    assert_eq!(
        web["selectionRange"]["start"],
        json!({ "line": 6, "character": 8 })
    );
    client.stop();
}

/// Applies LSP text edits (ASCII text: columns are bytes) to `text`.
fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + p["character"].as_u64().unwrap() as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort();
    let mut out = text.to_string();
    for (start, end, new) in edits.into_iter().rev() {
        out.replace_range(start..end, new);
    }
    out
}

/// Renaming a backend rewrites its declaration and every use, in every
/// file, and the project still checks; a rename that would change what
/// the sources mean is refused with the reason.
#[test]
fn rename_rewrites_every_use_or_says_why_not() {
    let main_text = "import \"teams/web.hap\"\nenv staging\nenv production\nlet port = 8080\nfrontend f {\n  bind :port\n  route host \"a.example.com\" -> web\n  if env == production { route host \"b.example.com\" -> web }\n  default -> web\n}\n";
    let web_text = "backend web { server a = 10.0.0.1:port }\nlet both = 1\nbackend both { server b = 10.0.0.2:both }\n";
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        ("main.hap", main_text),
        ("teams/web.hap", web_text),
    ]);
    let main = uri(&project.path().join("main.hap"));
    let team = uri(&project.path().join("teams/web.hap"));
    let client = Client::start();
    client.open(&main, main_text);
    let rename = |id: i32, uri: &str, line: u32, character: u32, new: &str| {
        client.response(
            id,
            "textDocument/rename",
            json!({
                "textDocument": { "uri": uri },
                "position": { "line": line, "character": character },
                "newName": new,
            }),
        )
    };
    // Asked first: where the name is, or why it cannot be renamed.
    let prepared = client.at(20, "textDocument/prepareRename", &main, 8, 14);
    assert_eq!(
        prepared,
        json!({ "start": { "line": 8, "character": 13 }, "end": { "line": 8, "character": 16 } })
    );
    let refusal = client.response(
        21,
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": main }, "position": { "line": 0, "character": 2 } }),
    );
    let refusal = refusal.error.expect("refused").message;
    assert!(refusal.contains("is not a backend"), "{refusal}");

    let renamed = rename(2, &main, 8, 14, "site");
    let changes = &renamed.result.unwrap()["changes"];
    let new_main = apply_edits(main_text, changes[main.as_str()].as_array().unwrap());
    let new_web = apply_edits(web_text, changes[team.as_str()].as_array().unwrap());
    assert_eq!(new_main.matches("-> site").count(), 3, "{new_main}");
    assert!(
        !new_main.contains("web }") && !new_main.contains("-> web"),
        "{new_main}"
    );
    assert!(new_web.starts_with("backend site {"), "{new_web}");
    std::fs::write(project.path().join("main.hap"), &new_main).unwrap();
    std::fs::write(project.path().join("teams/web.hap"), &new_web).unwrap();
    let checked = haptic::driver::compile(project.path()).unwrap();
    assert!(!checked.has_errors(), "{}", support::rendered(&checked));

    let refused = |id: i32, uri: &str, line: u32, character: u32, new: &str| -> String {
        rename(id, uri, line, character, new)
            .error
            .expect("refused")
            .message
    };
    assert!(refused(3, &main, 3, 5, "true").contains("is not a name"));
    assert!(refused(4, &main, 3, 5, "both").contains("already names a constant"));
    // A name in two namespaces: the one where the cursor is is renamed.
    // `let both` is renamed with its use in a server's address, not the
    // backend `both`; and a constant may take a frontend's name.
    let renamed = rename(5, &team, 1, 5, "other");
    let edits = renamed.result.unwrap()["changes"][team.as_str()].clone();
    let renamed_web = apply_edits(&new_web, edits.as_array().unwrap());
    assert!(
        renamed_web.contains("let other = 1")
            && renamed_web.contains("10.0.0.2:other")
            && renamed_web.contains("backend both {"),
        "{renamed_web}"
    );
    assert!(rename(8, &main, 3, 5, "f").result.is_some());
    // A constant named as an enumeration's value would stand for it.
    assert!(refused(9, &main, 3, 5, "leastconn").contains("a value of the language"));
    client.change(&main, 2, &format!("{main_text}backend broken {{"));
    assert!(refused(7, &main, 3, 5, "app_port").contains("does not parse"));
    client.stop();
}

/// Every request the server answers, at places all over the shop example
/// (every name, keyword, string and comment, past the ends of lines, in
/// a buffer with non-ASCII text), is answered: a panic in the server
/// would leave the request without a response.
#[test]
fn every_request_anywhere_is_answered() {
    let shop = support::repo_root().join("examples/shop");
    let project = tempfile::tempdir().unwrap();
    for file in [
        "haptic.toml",
        "main.hap",
        "platform.hap",
        "teams/catalog.hap",
    ] {
        support::write(
            &project.path().join(file),
            &std::fs::read(shop.join(file)).unwrap(),
        );
    }
    for file in ["checkout.hap", "media.hap", "storefront.hap"] {
        let to = project.path().join("teams").join(file);
        support::write(&to, &std::fs::read(shop.join("teams").join(file)).unwrap());
    }
    let path = project.path().join("teams/catalog.hap");
    let text = std::fs::read_to_string(&path).unwrap() + "// é 😀 ü\nlet ü = \"😀\"\n";
    let main = uri(&path);
    let client = Client::start();
    client.open(&main, &text);
    let mut id = 10;
    for (line, content) in text.lines().enumerate() {
        let width = content.encode_utf16().count() as u32;
        for character in (0..width + 3).step_by(3) {
            let line = line as u32;
            for method in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
            ] {
                id += 1;
                client.at(id, method, &main, line, character);
            }
            let position = json!({ "line": line, "character": character });
            id += 1;
            client.request(
                id,
                "textDocument/references",
                json!({
                    "textDocument": { "uri": main },
                    "position": position,
                    "context": { "includeDeclaration": true },
                }),
            );
            id += 1;
            client.request(
                id,
                "textDocument/rename",
                json!({ "textDocument": { "uri": main }, "position": position, "newName": "renamed" }),
            );
        }
    }
    let symbols = client.request(
        id + 1,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": main } }),
    );
    assert!(!symbols.as_array().unwrap().is_empty());
    client.stop();
}

/// Hovering a definition of the standard library shows it as the library
/// writes it, with its comment.
#[test]
fn hover_shows_standard_definitions() {
    let text = "import std.tls\nimport std.checks\nenv production\ntls public = tls.modern { certs = \"/etc/haproxy/certs/\" }\nbackend web {\n  check = checks.healthz\n  server a = 10.0.0.1:80\n}\nfrontend f { bind :443 tls public  default -> web }\n";
    let (_project, main, client) = open_single(text);
    let hover = |id, line, character| client.hover(id, &main, line, character);
    let modern = hover(2, 3, 19);
    assert!(
        modern.starts_with("```haptic\n// Modern: TLS 1.3 only"),
        "{modern}"
    );
    assert!(
        modern.contains("tls modern {\n  min_version = tls13"),
        "{modern}"
    );
    assert!(modern.ends_with("  tickets = false\n}\n```"), "{modern}");
    let healthz = hover(3, 5, 20);
    assert!(healthz.contains("let healthz = http {"), "{healthz}");
    assert_eq!(hover(4, 3, 14), "", "the module's name: nothing to say");
    client.stop();
}

/// A long declaration's hover is cut after twelve lines.
#[test]
fn hover_cuts_a_long_declaration() {
    let mut text = String::from("env production\nbackend web {\n");
    for i in 0..20 {
        text.push_str(&format!("  server s{i} = 10.0.0.{i}:80\n"));
    }
    text.push_str("}\nfrontend f { bind :8080  default -> web }\n");
    let (_project, main, client) = open_single(&text);
    client.definition(2, &main, 23, 37);
    let hover = client.at(3, "textDocument/hover", &main, 23, 37);
    let value = hover["contents"]["value"].as_str().unwrap();
    let lines: Vec<&str> = value.lines().collect();
    assert_eq!(lines.len(), 15, "{value}");
    assert_eq!(lines[1], "backend web {");
    assert_eq!(lines[12], "  server s10 = 10.0.0.10:80");
    assert_eq!(lines[13], "...");
    client.stop();
}

/// An unused definition has a quick fix that removes its lines, where
/// nothing else stands on them.
#[test]
fn an_unused_definition_can_be_removed() {
    let text = "env production\nlet spare = {\n  weight = 5\n} // kept for later\nif env == production { let inline = 1 }\nbackend web { server a = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> web }\n";
    // `inline` shares its line with the `if`: no removal is offered.
    assert_first_is_removed(
        text,
        "W0008",
        "remove `spare`",
        "env production\nif env == production { let inline = 1 }\nbackend web { server a = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> web }\n",
    );
}

/// `text` has two `code` findings: the first has one quick fix, `title`,
/// which leaves `fixed`; the second shares its line with other items, so
/// none is offered for it.
fn assert_first_is_removed(text: &str, code: &str, title: &str, fixed: &str) {
    let (_project, main, client) = open_single(text);
    let diags = client.diagnostics(&main);
    let codes: Vec<&Value> = diags.iter().map(|d| &d["code"]).collect();
    assert_eq!(codes, [&json!(code), &json!(code)], "{diags:?}");
    let fixes = client.quick_fixes(2, &main, &diags[..1]);
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    assert_eq!(fixes[0].0, title);
    assert_eq!(apply_edits(text, &fixes[0].1), fixed);
    let fixes = client.quick_fixes(3, &main, &diags[1..]);
    assert!(fixes.is_empty(), "{fixes:?}");
    client.stop();
}

/// A server at the address of another (W0009) can be removed, its whole
/// line, where it stands alone on it.
#[test]
fn a_server_at_the_address_of_another_can_be_removed() {
    let text = "env production\nbackend web {\n  server a = 10.0.0.1:80\n  server b = 10.0.0.1:80 { weight = 5 } // copied\n}\nbackend api { server c = 10.0.0.2:80  server d = 10.0.0.2:80 }\nfrontend f {\n  bind :8080\n  route path prefix \"/api/\" -> api\n  default -> web\n}\n";
    // `d` shares its line with its backend and `c`: no removal is offered.
    assert_first_is_removed(
        text,
        "W0009",
        "remove server `b`",
        &text.replace("  server b = 10.0.0.1:80 { weight = 5 } // copied\n", ""),
    );
}

/// An environment that counts as production stays one when renamed: its
/// entry in `production = [...]` is renamed too, or, where the manifest
/// leaves the list to its default (`["production"]`), the list is written
/// with the new name.
#[test]
fn renaming_a_production_environment_edits_the_manifest() {
    let text = "import std.tls\nenv staging\nenv production\ntls weak = tls.old { certs = \"/c.pem\" }\nbackend web { server a = 10.0.0.1:80 }\nfrontend f {\n  if env == production { bind :8443 tls weak }\n  bind :8080\n  default -> web\n}\n";
    let explicit =
        "[project]\nname = \"test\"\nhaproxy = \"2.6\"\nproduction = [\"eu\", \"production\"]\n";
    for manifest in [support::MANIFEST, explicit] {
        let project = TempProject::new(&[("haptic.toml", manifest), ("main.hap", text)]);
        let main = uri(&project.path().join("main.hap"));
        let toml = uri(&project.path().join("haptic.toml"));
        let client = Client::start();
        client.open(&main, text);
        let renamed = client.response(
            2,
            "textDocument/rename",
            json!({
                "textDocument": { "uri": main },
                "position": { "line": 2, "character": 6 },
                "newName": "prod",
            }),
        );
        let changes = &renamed.result.expect("renamed")["changes"];
        let new_main = apply_edits(text, changes[main.as_str()].as_array().unwrap());
        let new_toml = apply_edits(manifest, changes[toml.as_str()].as_array().unwrap());
        assert!(
            new_main.contains("env prod\n") && new_main.contains("if env == prod {"),
            "{new_main}"
        );
        if manifest == explicit {
            assert!(
                new_toml.ends_with("production = [\"eu\", \"prod\"]\n"),
                "{new_toml}"
            );
        } else {
            assert!(
                new_toml.starts_with("[project]\nproduction = [\"prod\"]\n"),
                "{new_toml}"
            );
        }
        // `staging` may not take a name that counts as production (`eu`,
        // listed and not declared; the default list's is declared).
        let new = if manifest == explicit {
            "eu"
        } else {
            "production"
        };
        let refused = client.response(
            3,
            "textDocument/rename",
            json!({
                "textDocument": { "uri": main },
                "position": { "line": 1, "character": 6 },
                "newName": new,
            }),
        );
        let refusal = refused.error.expect("refused").message;
        let reason = if new == "eu" {
            "counts as production"
        } else {
            "already names an environment"
        };
        assert!(refusal.contains(reason), "{refusal}");
        client.stop();
        // Renamed, the project means what it did: the weak TLS policy still
        // reaches production (W0003), and `eu`, listed and never declared,
        // is the error it was before (E0104); nothing else is said.
        std::fs::write(project.path().join("main.hap"), &new_main).unwrap();
        std::fs::write(project.path().join("haptic.toml"), &new_toml).unwrap();
        let checked = haptic::driver::compile(project.path()).unwrap();
        let expected: &[&str] = if manifest == explicit {
            &["E0104", "W0003"]
        } else {
            &["W0003"]
        };
        assert_eq!(
            support::codes(&checked),
            expected,
            "{}",
            support::rendered(&checked)
        );
    }
}

/// Semantic tokens: the server announces its legend, and colours the
/// buffer as the editor holds it, also while it does not parse.
#[test]
fn the_buffer_is_coloured_by_semantic_tokens() {
    let project = TempProject::single(GOOD);
    let main = uri(&project.path().join("main.hap"));
    let (server, connection) = Connection::memory();
    let server = std::thread::spawn(move || haptic::lsp::serve(&server).unwrap());
    let client = Client { connection, server };
    let init = client.request(1, "initialize", json!({ "capabilities": {} }));
    client.notify("initialized", json!({}));
    let provider = &init["capabilities"]["semanticTokensProvider"];
    assert_eq!(provider["full"], true, "{init}");
    let legend: Vec<String> = provider["legend"]["tokenTypes"]
        .as_array()
        .expect("a legend")
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    // Each token's text and the name of its type, decoded.
    let coloured = |id: i32, text: &str| -> Vec<(String, String)> {
        let got = client.request(
            id,
            "textDocument/semanticTokens/full",
            json!({ "textDocument": { "uri": main } }),
        );
        let data: Vec<u64> = got["data"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        let lines: Vec<Vec<u16>> = text.lines().map(|l| l.encode_utf16().collect()).collect();
        let (mut line, mut start) = (0, 0);
        data.chunks(5)
            .map(|t| {
                if t[0] > 0 {
                    line += t[0] as usize;
                    start = 0;
                }
                start += t[1] as usize;
                let word = String::from_utf16_lossy(&lines[line][start..start + t[2] as usize]);
                (word, legend[t[3] as usize].clone())
            })
            .collect()
    };
    let pair = |w: &str, t: &str| (w.to_string(), t.to_string());
    // Not opened: the file on disk.
    let found = coloured(2, GOOD);
    for expected in [
        pair("env", "keyword"),
        pair("production", "enumMember"),
        pair("web", "type"),
        pair("a", "property"),
        pair("10.0.0.1", "number"),
        pair("->", "operator"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    // The buffer, which does not parse.
    let typing = "backend api {\n  balance = leastc\n  server a = \"x";
    client.open(&main, typing);
    let found = coloured(3, typing);
    assert_eq!(
        found,
        [
            pair("backend", "keyword"),
            pair("api", "type"),
            pair("balance", "property"),
            pair("=", "operator"),
            pair("leastc", "variable"),
            pair("server", "keyword"),
            pair("a", "property"),
            pair("=", "operator"),
            pair("\"x", "string"),
        ]
    );
    client.stop();
}

/// Workspace symbols: the names of the projects checked, from every file,
/// best match first, with their kinds.
#[test]
fn workspace_symbols_find_names_in_every_file() {
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        (
            "main.hap",
            "import \"teams/api.hap\"\nenv production\nlet api_port: port = 8080\nfrontend api_edge { bind :8080  default -> api }\n",
        ),
        (
            "teams/api.hap",
            "backend api { server a = 10.0.0.1:api_port }\nbackend api_v2 { server a = 10.0.0.2:api_port }\nbackend web { server a = 10.0.0.3:80 }\n",
        ),
    ]);
    let main = uri(&project.path().join("main.hap"));
    let team = uri(&project.path().join("teams/api.hap"));
    let client = Client::start();
    let text = std::fs::read_to_string(project.path().join("main.hap")).unwrap();
    client.open(&main, &text);
    let symbols = |id: i32, query: &str| -> Vec<(String, u64, String)> {
        let found = client.request(id, "workspace/symbol", json!({ "query": query }));
        found
            .as_array()
            .unwrap_or_else(|| panic!("{found}"))
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["kind"].as_u64().unwrap(),
                    s["location"]["uri"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // 5: class (backend), 11: interface (frontend), 14: constant.
    assert_eq!(
        symbols(2, "API"),
        [
            ("api".to_string(), 5, team.clone()),
            ("api_edge".to_string(), 11, main.clone()),
            ("api_port".to_string(), 14, main.clone()),
            ("api_v2".to_string(), 5, team.clone()),
        ]
    );
    assert_eq!(
        symbols(3, "apiv2"),
        [("api_v2".to_string(), 5, team.clone())]
    );
    assert_eq!(symbols(4, "nothing"), []);
    client.stop();
}

/// A block's template (`backend api with service`) is a use of the
/// constant: definition, references and rename find it there.
#[test]
fn a_block_template_is_a_use_of_its_constant() {
    let text = "env production\nlet service = { retries = 2 }\nbackend api with service { server a = 10.0.0.1:80 }\nfrontend www { bind :80\n  default -> api }\n";
    let (project, main, client) = open_single(text);
    let definition = client.definition(1, &main, 2, 20);
    assert_eq!(
        definition[0]["range"]["start"],
        json!({ "line": 1, "character": 4 })
    );
    let found = client.request(
        2,
        "textDocument/references",
        json!({
            "textDocument": { "uri": main },
            "position": { "line": 1, "character": 6 },
            "context": { "includeDeclaration": false },
        }),
    );
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(
        found[0]["range"]["start"],
        json!({ "line": 2, "character": 17 })
    );
    let renamed = client.request(
        3,
        "textDocument/rename",
        json!({
            "textDocument": { "uri": main },
            "position": { "line": 2, "character": 18 },
            "newName": "base",
        }),
    );
    let new_text = apply_edits(text, renamed["changes"][main.as_str()].as_array().unwrap());
    assert!(
        new_text.contains("let base = {") && new_text.contains("backend api with base {"),
        "{new_text}"
    );
    std::fs::write(project.path().join("main.hap"), &new_text).unwrap();
    let checked = haptic::driver::compile(project.path()).unwrap();
    assert!(!checked.has_errors(), "{}", support::rendered(&checked));
    client.stop();
}

/// Every request that names a place is answered at every place of every
/// file of the examples, as written and mutated at random (the editor's
/// buffer is whatever is being typed): with a result or an error, never a
/// server gone. Places past the end of a line and of the file included.
#[test]
fn every_place_of_the_examples_gets_an_answer() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    const METHODS: &[&str] = &[
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/documentHighlight",
        "textDocument/prepareRename",
        "textDocument/completion",
        "textDocument/rename",
    ];
    let mut runner = TestRunner::deterministic();
    let mut id = 10;
    for files in crate::hostile::examples() {
        let project = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            support::write(&project.path().join(name), bytes);
        }
        let client = Client::start();
        for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".hap")) {
            let uri = uri(&project.path().join(name));
            let mut text = bytes.clone();
            client.open(&uri, &String::from_utf8_lossy(&text));
            // As written, then after two rounds of mutations.
            for round in 0..3 {
                if round > 0 {
                    for _ in 0..3 {
                        let m = crate::hostile::mutation()
                            .new_tree(&mut runner)
                            .unwrap()
                            .current();
                        crate::hostile::apply(&mut text, &m);
                    }
                    client.change(&uri, round + 1, &String::from_utf8_lossy(&text));
                }
                let shown = String::from_utf8_lossy(&text).into_owned();
                let lines: Vec<&str> = shown.split('\n').collect();
                for (line, content) in lines.iter().enumerate().chain([(lines.len(), &"")]) {
                    let width = content.encode_utf16().count() as u32;
                    // A place every few characters, the line's end and past it.
                    let places = (0..width).step_by(11).chain([width, width + 3]);
                    for (i, character) in places.enumerate() {
                        id += 1;
                        let method = METHODS[(line + i + round as usize) % METHODS.len()];
                        let mut params = json!({
                            "textDocument": { "uri": uri },
                            "position": { "line": line, "character": character },
                        });
                        if method == "textDocument/references" {
                            params["context"] = json!({ "includeDeclaration": true });
                        }
                        if method == "textDocument/rename" {
                            params["newName"] = json!("renamed");
                        }
                        let response = client.response(id, method, params);
                        assert_eq!(
                            response.id,
                            RequestId::from(id),
                            "{name}:{line}:{character} {method}"
                        );
                    }
                }
            }
        }
        client.stop();
    }
}

/// Whether `after` is `before` with some of its whole words `old`
/// (between characters that are not a name's) made `new`, line by line:
/// not all of them, for a backend `cart` leaves the path `/api/cart/` and
/// the server `cart1` as they are.
fn renamed_in(before: &str, after: &str, old: &str, new: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let line = |before: &str, after: &str| {
        let (mut b, mut a) = (before, after);
        loop {
            let Some(at) = b.find(old) else {
                return a == b;
            };
            let end = at + old.len();
            if a.get(..at) != Some(&b[..at]) {
                return false;
            }
            let whole = !b[..at].ends_with(is_name) && !b[end..].starts_with(is_name);
            a = &a[at..];
            b = &b[end..];
            a = match a.strip_prefix(new) {
                Some(rest) if whole => rest,
                _ => match a.strip_prefix(old) {
                    Some(rest) => rest,
                    None => return false,
                },
            };
        }
    };
    let (before, after): (Vec<&str>, Vec<&str>) =
        (before.lines().collect(), after.lines().collect());
    before.len() == after.len() && before.iter().zip(&after).all(|(b, a)| line(b, a))
}

/// The outputs of `files` (their bodies, without the header's comments),
/// by environment, and the codes of its diagnostics.
fn meaning(files: &BTreeMap<String, Vec<u8>>) -> (Vec<&'static str>, Vec<(String, String)>) {
    let c = haptic::driver::compile_from(Path::new("."), files).unwrap();
    let codes = support::codes(&c);
    let outputs = c
        .outputs()
        .iter()
        .map(|o| {
            // The header's comments hold the sources' hash, and the
            // fingerprint of what a reload changes hashes names too.
            let body = |text: &str| {
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.contains("description haptic:"))
                    .collect();
                lines.join("\n")
            };
            let map = o.routes_map.as_deref().map(body).unwrap_or_default();
            let text = format!("{}\n{}\n{map}", body(&o.haproxy_cfg), body(&o.runtime_txt));
            (o.env.clone(), text)
        })
        .collect();
    (codes, outputs)
}

/// Every name of the examples that the editor may rename (backends,
/// frontends, constants, TLS policies, environments), renamed: the
/// project means what it meant, its outputs the same but for the name
/// where they write it.
#[test]
fn renaming_any_name_of_the_examples_keeps_their_meaning() {
    const NEW: &str = "zz_renamed";
    let mut renamed = 0;
    let mut id = 10;
    for files in crate::hostile::examples() {
        let project = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            support::write(&project.path().join(name), bytes);
        }
        let (codes, outputs) = meaning(files);
        let client = Client::start();
        let by_uri: BTreeMap<String, &String> = files
            .keys()
            .map(|name| (uri(&project.path().join(name)), name))
            .collect();
        let mut tried: BTreeMap<String, usize> = BTreeMap::new();
        for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".hap")) {
            let file_uri = uri(&project.path().join(name));
            let text = String::from_utf8(bytes.clone()).unwrap();
            client.open(&file_uri, &text);
            for (line, content) in text.lines().enumerate() {
                let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
                let bytes = content.as_bytes();
                for at in 0..bytes.len() {
                    let starts = (bytes[at].is_ascii_alphabetic() || bytes[at] == b'_')
                        && (at == 0 || !is_name(bytes[at - 1]));
                    // Not in a comment or a string.
                    let before = &content[..at];
                    if !starts || before.contains("//") || before.matches('"').count() % 2 == 1 {
                        continue;
                    }
                    let end = (at..bytes.len()).find(|&i| !(is_name(bytes[i]) || bytes[i] == b'-'));
                    let word = &content[at..end.unwrap_or(bytes.len())];
                    // A word asked about often and never renamable is a
                    // keyword or a field.
                    let asked = tried.entry(word.to_string()).or_default();
                    if *asked == usize::MAX || *asked > 4 {
                        continue;
                    }
                    id += 1;
                    let position = json!({ "line": line, "character": at });
                    let prepared = client.response(
                        id,
                        "textDocument/prepareRename",
                        json!({ "textDocument": { "uri": file_uri }, "position": position }),
                    );
                    if prepared.error.is_some() {
                        *asked += 1;
                        continue;
                    }
                    *asked = usize::MAX;
                    id += 1;
                    let response = client.response(
                        id,
                        "textDocument/rename",
                        json!({
                            "textDocument": { "uri": file_uri },
                            "position": position,
                            "newName": NEW,
                        }),
                    );
                    let context = format!("`{word}` at {name}:{}:{}", line + 1, at + 1);
                    let Some(result) = response.result else {
                        // Refused with a reason: the manifest's production.
                        let message = response.error.unwrap().message;
                        assert!(message.contains("haptic.toml"), "{context}: {message}");
                        continue;
                    };
                    let mut edited = files.clone();
                    for (at_uri, edits) in result["changes"].as_object().unwrap() {
                        let file = by_uri[at_uri.as_str()];
                        let old = String::from_utf8(files[file].clone()).unwrap();
                        let new = apply_edits(&old, edits.as_array().unwrap());
                        edited.insert(file.clone(), new.into_bytes());
                    }
                    let (new_codes, new_outputs) = meaning(&edited);
                    assert_eq!(codes, new_codes, "{context}");
                    assert_eq!(outputs.len(), new_outputs.len(), "{context}");
                    for ((env, before), (new_env, after)) in outputs.iter().zip(&new_outputs) {
                        assert!(
                            renamed_in(before, after, word, NEW),
                            "{context}, environment {env} ({new_env}):\n{}",
                            similar::TextDiff::from_lines(before, after).unified_diff()
                        );
                    }
                    renamed += 1;
                }
            }
        }
        client.stop();
    }
    assert!(renamed >= 40, "only {renamed} names renamed");
}
