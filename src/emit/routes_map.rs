//! `routes.map`: the environment's routes map (see [`crate::lower::RouteMap`]),
//! the file HAProxy loads from the path `defaults` names. A `#` line is a
//! comment in a map file; every other line is a key and a value.

use super::Provenance;
use crate::lower::RouteMap;

/// The map file's text: the header, then a line per entry.
pub fn emit(map: &RouteMap, provenance: &Provenance) -> String {
    let mut out = String::new();
    for line in provenance.header_lines("routes.map") {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "# the routes map at {}: host@frontend/path-prefix or host@frontend=exact-path backend\n",
        map.path
    ));
    for (key, backend) in &map.entries {
        // A key is a host name the checker validated, `@`, an identifier
        // and a path of the characters it allowed; a value, an
        // identifier: one word each.
        assert!(
            is_word(key) && is_word(backend),
            "map entry built from unchecked input: {key:?} {backend:?}"
        );
        out.push_str(key);
        out.push(' ');
        out.push_str(backend);
        out.push('\n');
    }
    out
}

/// Whether `s` is one word of a map file and of a Runtime API command:
/// not empty, no space, `#`, `;`, quote, backslash or control character.
pub fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'#' | b';' | b'"' | b'\'' | b'\\'))
}
