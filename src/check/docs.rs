//! What each field of the language does, in a sentence or two: shown by
//! the editor's hover and completion beside the field's type. Keyed by the
//! kind of record (a schema's `kind`) and the field's name; every field of
//! every schema has one (`every_field_has_a_doc`).

/// The explanation of field `name` of a record of `kind` (see
/// [`super::types::Schema::kind`]).
pub fn field(kind: &str, name: &str) -> Option<&'static str> {
    DOCS.iter()
        .find(|(k, n, _)| *k == kind && *n == name)
        .map(|(_, _, doc)| *doc)
}

/// The explanation of value `value` of the enumeration field `field`
/// (`leastconn` of `balance`).
pub fn value(field: &str, value: &str) -> Option<&'static str> {
    let field = match field {
        "max_version" | "min" => "min_version",
        field => field,
    };
    VALUES
        .iter()
        .find(|(f, v, _)| *f == field && *v == value)
        .map(|(_, _, doc)| *doc)
}

static VALUES: &[(&str, &str, &str)] = &[
    ("balance", "roundrobin", "Each server in turn, by weight; weights change without a reload."),
    (
        "balance",
        "static-rr",
        "Each server in turn, by weight, fixed at start: a weight changes only to 0 or back at runtime.",
    ),
    (
        "balance",
        "leastconn",
        "The server with the fewest connections: for long sessions (WebSockets, databases).",
    ),
    (
        "balance",
        "first",
        "The first server with a free connection slot (`maxconn`), in order: packs load onto few servers.",
    ),
    ("balance", "source", "A hash of the client's address: a client keeps its server while the servers stay."),
    ("balance", "uri", "A hash of the request's path: a path keeps its server (caches); HTTP backends only."),
    ("balance", "random", "A random server, by weight (the better of two draws)."),
    ("state", "ready", "The server takes traffic."),
    (
        "state",
        "drain",
        "The server takes no new clients (weight 0) but those it keeps by a sticky cookie; its health is still checked.",
    ),
    ("state", "maint", "The server takes no traffic and is not checked (maintenance)."),
    ("http_reuse", "never", "A connection to a server serves one client's requests only."),
    (
        "http_reuse",
        "safe",
        "An idle connection is shared, but a client's first request gets a connection of its own (HAProxy's default).",
    ),
    ("http_reuse", "aggressive", "An idle connection proven reusable is shared, first requests included."),
    ("http_reuse", "always", "An idle connection is always shared: for servers known to keep them open."),
    ("mode", "http", "Reads HTTP requests: routes by host, path and header, headers, redirects."),
    ("mode", "tcp", "Passes the bytes of each connection on as they come."),
    (
        "forwarded_for",
        "replace",
        "`X-Forwarded-For` is the client's address alone: a client's own is dropped (HAProxy at the edge).",
    ),
    (
        "forwarded_for",
        "append",
        "The client's address is added to the `X-Forwarded-For` a proxy in front sent.",
    ),
    ("request_id", "replace", "Every request gets a new UUID in `X-Request-ID` (HAProxy at the edge)."),
    ("request_id", "keep", "The `X-Request-ID` a proxy in front set is kept; a request without one gets one."),
    ("client_verify", "required", "A client without a certificate signed by `client_ca` is refused."),
    ("client_verify", "optional", "A client may present a certificate, which is then verified."),
    ("verify", "required", "The server's certificate is verified against `ca`."),
    ("verify", "none", "The server's certificate is not verified: encrypted, not authenticated (W0004)."),
    ("min_version", "tls10", "TLS 1.0: only for the oldest clients (Mozilla's `old` profile; W0003 in production)."),
    ("min_version", "tls11", "TLS 1.1: weak (W0003 in production)."),
    ("min_version", "tls12", "TLS 1.2 (Mozilla's `intermediate` profile)."),
    ("min_version", "tls13", "TLS 1.3 (Mozilla's `modern` profile)."),
    ("method", "GET", "The check asks with `GET` (the default)."),
    ("method", "HEAD", "The check asks with `HEAD`: the headers alone, no body."),
    ("method", "OPTIONS", "The check asks with `OPTIONS`."),
    ("method", "POST", "The check asks with `POST`, without a body."),
];

const TIMEOUT_CONNECT: &str =
    "How long HAProxy waits for a server to accept a connection (`timeout connect`).";
const TIMEOUT_SERVER: &str =
    "How long HAProxy waits for a server to answer, or to send more (`timeout server`).";
const TIMEOUT_QUEUE: &str =
    "How long a request waits in the queue for a server slot (`maxconn`) before a 503.";
const TIMEOUT_TUNNEL: &str =
    "How long an upgraded connection (a WebSocket) may stay idle, after its upgrade.";
const TIMEOUT_CLIENT: &str =
    "How long HAProxy waits for a client to send, before it closes the connection.";
const ALLOW: &str = "Client networks (CIDR) let in; others get 403 (a tcp block closes their \
                     connections). Every client when not written.";
const MODE: &str = "`http` (the default) reads requests; `tcp` passes the bytes of each \
                    connection on as they come (a database, a broker, TLS passed through).";
const ERROR_PAGES: &str = "Responses HAProxy makes itself (503 with no server up, 403 outside \
                           `allow`, ...) replaced by a file on the HAProxy host: \
                           `[{ status = 503, file = \"/etc/haproxy/errors/503.http\" }]`.";
const REMOVE_REQUEST_HEADERS: &str =
    "Header names taken off requests as they come in, before any header is set.";
const REMOVE_RESPONSE_HEADERS: &str =
    "Header names taken off responses as they come back: `[\"Server\", \"X-Powered-By\"]`.";
const RETRIES: &str = "How many times a failed connection to a server is tried again.";
const REDISPATCH: &str =
    "`true`: a request's last retry goes to another server than the one that failed it.";
const MAXCONN: &str = "The most connections at once; more wait (a server's, in its queue).";
const EVERY: &str = "The interval between two checks of a server.";
const RISE: &str = "Checks passed in a row for a server down to be up again.";
const FALL: &str = "Checks failed in a row for a server up to be down.";
const CHECK_PORT: &str = "The port checked, where it is not the server's own (a management port).";

static DOCS: &[(&str, &str, &str)] = &[
    // health check `http { ... }`
    ("health check", "method", "The HTTP method of the check's request (`GET` unless written)."),
    ("health check", "path", "The path the check asks for: `\"/healthz\"`."),
    (
        "health check",
        "expect",
        "The status a healthy server answers: `200`, a class `\"2xx\"`, or a list `[200, 204]`.",
    ),
    (
        "health check",
        "expect_body",
        "A text the response's body must hold too, for an endpoint that answers 200 in any state.",
    ),
    ("health check", "every", EVERY),
    ("health check", "rise", RISE),
    ("health check", "fall", FALL),
    ("health check", "host", "The `Host` header of the check's request."),
    ("health check", "port", CHECK_PORT),
    // `tcp { ... }`
    ("TCP health check", "every", EVERY),
    ("TCP health check", "rise", RISE),
    ("TCP health check", "fall", FALL),
    ("TCP health check", "port", CHECK_PORT),
    // a server's `tls = { ... }`
    (
        "server TLS",
        "verify",
        "`required` (the default) checks the server's certificate against `ca`; `none` does not (W0004).",
    ),
    ("server TLS", "ca", "The CA file that signs the server's certificate."),
    ("server TLS", "sni", "The server name sent in the TLS hello, and checked in the certificate."),
    // server options
    (
        "server",
        "weight",
        "The server's share of the traffic against the others' (0..=256, 100 unless written). Changes without a reload (with `static-rr`, only to 0 and back).",
    ),
    (
        "server",
        "state",
        "`ready`, `drain` (no new clients, weight 0) or `maint` (no traffic). Changes without a reload.",
    ),
    ("server", "maxconn", "The most connections at once to the server; more wait in the queue."),
    ("server", "tls", "Connect to the server over TLS: `{ verify = required, ca = \"...\", sni = \"...\" }`."),
    ("server", "check", "Whether the backend's health check checks this server (when the backend has one)."),
    ("server", "backup", "`true`: the server takes traffic only while every server that is not a backup is down."),
    (
        "server",
        "send_proxy",
        "`true`: each connection starts with a PROXY protocol v2 header naming the client.",
    ),
    (
        "server",
        "slowstart",
        "A server back up, or added, ramps from no traffic to its weight over this long.",
    ),
    ("server", "http2", "`true`: requests go to the server over HTTP/2 (gRPC services need it)."),
    // backend
    (
        "backend",
        "balance",
        "How a server is picked for a request or connection; a change needs a reload.",
    ),
    (
        "backend",
        "check",
        "The health check of the servers: `http { path = \"/healthz\" }`, `tcp { }`, or `checks.healthz`.",
    ),
    ("backend", "timeout_connect", TIMEOUT_CONNECT),
    ("backend", "timeout_server", TIMEOUT_SERVER),
    ("backend", "timeout_queue", TIMEOUT_QUEUE),
    ("backend", "timeout_tunnel", TIMEOUT_TUNNEL),
    ("backend", "http_reuse", "Whether idle connections to servers are shared between clients (`http-reuse`)."),
    (
        "backend",
        "sticky_cookie",
        "The cookie that keeps a client on one server: HAProxy sets it, and routes by it.",
    ),
    ("backend", "retries", RETRIES),
    ("backend", "redispatch", REDISPATCH),
    (
        "backend",
        "compress",
        "Media types whose responses are gzipped for clients that accept it: `[\"text/html\"]`.",
    ),
    (
        "backend",
        "strip_prefix",
        "A path prefix taken off requests forwarded, where a segment ends: `\"/api\"` sends `/api/users` as `/users`.",
    ),
    (
        "backend",
        "add_prefix",
        "A path prefix put before the path forwarded (after `strip_prefix`): `\"/v2\"`.",
    ),
    (
        "backend",
        "basic_auth",
        "HTTP Basic authentication of every request: `{ realm = \"ops\", users = [...] }`; others get 401.",
    ),
    ("backend", "allow", ALLOW),
    ("backend", "mode", MODE),
    ("backend", "error_pages", ERROR_PAGES),
    ("backend", "remove_request_headers", REMOVE_REQUEST_HEADERS),
    ("backend", "remove_response_headers", REMOVE_RESPONSE_HEADERS),
    // error page
    ("error page", "status", "The status whose response the file replaces (one HAProxy answers with itself)."),
    ("error page", "file", "A whole HTTP response, headers and all, on the HAProxy host."),
    // basic auth
    ("basic auth", "realm", "What the browser shows the user is logging in to (the backend's name unless written)."),
    ("basic auth", "users", "The users: `[{ name = \"alice\", password_hash = secret(\"ALICE_HASH\") }]`."),
    ("user", "name", "The user's name."),
    (
        "user",
        "password_hash",
        "The secret holding the password's hash (`openssl passwd -6`), from HAProxy's environment.",
    ),
    // rate limit
    ("rate limit", "requests", "HTTP requests a client address may make per `per`; more get 429."),
    (
        "rate limit",
        "connections",
        "New connections a client address may open per `per`; more are refused before anything is read.",
    ),
    ("rate limit", "per", "The period the counts are over."),
    // frontend
    ("frontend", "maxconn", MAXCONN),
    ("frontend", "timeout_client", TIMEOUT_CLIENT),
    (
        "frontend",
        "timeout_hello",
        "How long a tcp frontend that routes by `host` and passes TLS through waits for a client's TLS \
         hello (5s unless written); a client that sends none goes to the default then.",
    ),
    ("frontend", "allow", ALLOW),
    (
        "frontend",
        "rate_limit",
        "Per client address: `{ requests = 100, per = 10s }` (429 past it), or `connections`.",
    ),
    ("frontend", "max_body", "A request whose `Content-Length` is larger gets 413."),
    (
        "frontend",
        "forwarded_for",
        "The client's address in `X-Forwarded-For`: `replace` (HAProxy at the edge) or `append` (behind a proxy).",
    ),
    ("frontend", "forwarded_proto", "`true`: `X-Forwarded-Proto` is `https` on a TLS bind, else `http`."),
    (
        "frontend",
        "accept_proxy",
        "`true`: every bind takes the client's address from a PROXY protocol header, and refuses a connection without one.",
    ),
    (
        "frontend",
        "monitor_uri",
        "A path HAProxy answers with 200 itself while it runs, before `allow` and the routes.",
    ),
    (
        "frontend",
        "request_id",
        "`X-Request-ID` for the backends and the log: `replace` gives every request a new one, `keep` keeps a proxy's.",
    ),
    ("frontend", "mode", MODE),
    ("frontend", "error_pages", ERROR_PAGES),
    ("frontend", "remove_request_headers", REMOVE_REQUEST_HEADERS),
    ("frontend", "remove_response_headers", REMOVE_RESPONSE_HEADERS),
    // TLS policy
    ("TLS policy", "min_version", "The oldest TLS version a client may use (`tls12` unless written)."),
    ("TLS policy", "max_version", "The newest TLS version a client may use."),
    ("TLS policy", "ciphers", "The TLS 1.2 and older cipher list, OpenSSL's names, colon-separated."),
    ("TLS policy", "ciphersuites", "The TLS 1.3 suites, OpenSSL's names, colon-separated."),
    ("TLS policy", "curves", "The key exchange curves, OpenSSL's names, colon-separated."),
    ("TLS policy", "alpn", "The protocols offered by ALPN: `[\"h2\", \"http/1.1\"]`; `[]` for none."),
    ("TLS policy", "certs", "A PEM file of certificate and key, or a directory of them ending in `/`."),
    ("TLS policy", "crt_list", "A crt-list file naming the certificates (instead of `certs`)."),
    ("TLS policy", "hsts", "Send `Strict-Transport-Security` with this max-age on TLS binds."),
    ("TLS policy", "tickets", "Whether TLS session tickets are offered (off in the standard profiles)."),
    ("TLS policy", "client_ca", "The CA file that signs client certificates: clients must present one."),
    ("TLS policy", "client_verify", "`required` (the default) or `optional` client certificates."),
    // DNS
    ("DNS", "nameservers", "The name servers to ask: `[10.0.0.2:53]`; those of `/etc/resolv.conf` unless written."),
    ("DNS", "hold_valid", "How long the last valid answer is kept."),
    ("DNS", "hold_nx", "How long the last valid answer is kept once the name servers say the name does not exist."),
    ("DNS", "resolve_retries", "Queries sent before a name is given up as unresolved."),
    ("DNS", "timeout_retry", "How long to wait for an answer before asking again."),
    // defaults
    ("defaults", "timeout_connect", TIMEOUT_CONNECT),
    ("defaults", "timeout_client", TIMEOUT_CLIENT),
    ("defaults", "timeout_server", TIMEOUT_SERVER),
    ("defaults", "timeout_http_request", "How long a client may take to send a whole request's headers."),
    ("defaults", "timeout_http_keep_alive", "How long an idle kept-alive connection waits for the next request."),
    ("defaults", "timeout_queue", TIMEOUT_QUEUE),
    ("defaults", "timeout_check", "How long a health check waits for its answer."),
    ("defaults", "timeout_tunnel", TIMEOUT_TUNNEL),
    ("defaults", "retries", RETRIES),
    ("defaults", "redispatch", REDISPATCH),
    ("defaults", "maxconn", "The most connections HAProxy takes at once, in all."),
    ("defaults", "socket", "The Runtime API socket's path, which `haptic apply` talks to."),
    ("defaults", "log", "Where HAProxy logs: `\"stdout\"`, `\"/dev/log\"`, or a syslog `\"10.0.0.5:514\"`."),
    (
        "defaults",
        "routes_map",
        "The routes map's absolute path on the HAProxy host: host routes become its entries, which change without a reload.",
    ),
    ("defaults", "dns", "How servers named by DNS are resolved: `{ nameservers = [...], ... }`."),
    ("defaults", "error_pages", ERROR_PAGES),
    // stats
    ("stats", "bind", "The address of the stats page: `127.0.0.1:8404`."),
    ("stats", "uri", "The page's path."),
    ("stats", "user", "The page's user."),
    ("stats", "password", "The page's password, a secret: `secret(\"STATS_PASSWORD\")`."),
    ("stats", "refresh", "How often the page reloads itself."),
    (
        "stats",
        "metrics",
        "A path where HAProxy's Prometheus exporter answers on the same bind, without the password.",
    ),
    ("stats", "allow", "Client networks that reach the bind; others get 403."),
    // guard options
    ("guard", "min", "The oldest TLS version allowed."),
    ("guard", "count", "The servers in service every backend needs (2 unless written)."),
];

#[cfg(test)]
mod tests {
    use super::super::types::{self, Schema};

    /// Every schema of the language.
    fn schemas() -> impl Iterator<Item = &'static Schema> {
        types::FIELD_HOMES
            .iter()
            .map(|(schema, _)| *schema)
            .chain([
                &types::TCP_CHECK,
                &types::BASIC_AUTH,
                &types::AUTH_USER,
                &types::DNS,
            ])
            .chain(types::GUARDS.iter().map(|rule| rule.options))
    }

    #[test]
    fn every_value_of_an_enumeration_has_a_doc() {
        for schema in schemas() {
            for (name, ty) in schema.fields {
                if let types::Ty::Enum(values) = ty {
                    for value in *values {
                        assert!(
                            super::value(name, value).is_some(),
                            "no doc for `{value}` of `{name}` in a {}",
                            schema.kind
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_field_has_a_doc_and_every_doc_a_field() {
        for schema in schemas() {
            for (name, _) in schema.fields {
                assert!(
                    super::field(schema.kind, name).is_some(),
                    "no doc for `{name}` of a {}",
                    schema.kind
                );
            }
        }
        for (kind, name, _) in super::DOCS {
            let known =
                schemas().any(|s| s.kind == *kind && s.fields.iter().any(|(n, _)| n == name));
            assert!(
                known,
                "a doc for `{name}` of a {kind}, which has no such field"
            );
        }
    }
}
