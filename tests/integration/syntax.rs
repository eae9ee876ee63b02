//! The two parsers read one language: the hand-written parser
//! (`src/syntax/parser.rs`) accepts exactly what the pest grammar
//! (`grammar/haptic.pest`) accepts, and builds the same tree with the same
//! spans and the same diagnostics. Checked on every source of the
//! repository, on random mutations of them, and on random token soups.

use std::path::Path;

use haptic::source::FileId;
use proptest::prelude::*;

use crate::{hostile, support};

/// Fails unless both parsers accept `text` with equal results, or both
/// refuse it.
fn assert_agree(text: &str) -> Result<(), TestCaseError> {
    let reference = haptic::syntax::parse_reference(FileId(0), text);
    let fast = haptic::syntax::parse_fast(FileId(0), text);
    match (reference, fast) {
        (Ok(reference), Some(fast)) => {
            prop_assert_eq!(
                reference,
                fast,
                "the parsers build different trees for:\n{}",
                text
            );
        }
        (Err(e), None) => {
            // The grammar's error is reported, whatever is found beside it
            // (a bad literal before it, a mistake in a later item), with
            // perhaps a label more (the `{` that is never closed), and
            // then, where indentation shows which one that is, the help
            // that names it in place of the grammar's.
            let (_, diags) = haptic::syntax::parse(FileId(0), text);
            let same = |d: &haptic::diag::Diagnostic| {
                let help = d.help == e.help
                    || d.labels
                        .iter()
                        .any(|l| l.message.ends_with("is not closed"))
                        && d.help.len() == 2
                        && d.help[0].starts_with("close the `");
                (d.code, &d.message, d.span) == (e.code, &e.message, e.span) && help
            };
            prop_assert!(
                diags.iter().any(same),
                "the grammar's error {:?} is not among {:?} for:\n{}",
                e,
                diags,
                text
            );
        }
        (Ok(_), None) => {
            return Err(TestCaseError::fail(format!(
                "the hand-written parser refuses what the grammar accepts:\n{text}"
            )))
        }
        (Err(e), Some(_)) => {
            return Err(TestCaseError::fail(format!(
                "the hand-written parser accepts what the grammar refuses ({}):\n{text}",
                e.message
            )))
        }
    }
    Ok(())
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "hap") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

/// Every `.hap` file of the repository: cases (including syntax errors),
/// plans, examples and the standard library.
fn repository_sources() -> Vec<(String, String)> {
    let root = support::repo_root();
    let mut out = Vec::new();
    for dir in ["tests/cases", "tests/plans", "examples", "stdlib"] {
        sources(&root.join(dir), &mut out);
    }
    out.sort();
    out
}

#[test]
fn parsers_agree_on_every_source_of_the_repository() {
    let sources = repository_sources();
    assert!(sources.len() > 50, "found only {} sources", sources.len());
    let mut accepted = 0;
    for (name, text) in &sources {
        if let Err(e) = assert_agree(text) {
            panic!("{name}: {e}");
        }
        let parses = haptic::syntax::parse_fast(FileId(0), text).is_some();
        // Every file parses but the syntax cases, so that the trees of
        // most are compared, not only the verdicts.
        let syntax_case = Path::new(name)
            .parent()
            .is_some_and(|d| d.ends_with("tests/cases/syntax"));
        assert!(parses || syntax_case, "{name} does not parse");
        accepted += usize::from(parses);
    }
    assert!(accepted > 100, "only {accepted} of {} parse", sources.len());
}

/// Places where the two parsers could part: keywords used as names, values
/// of every form, optional parts that are absent (spans then end after the
/// trivia pest skipped), `else if`, trailing commas and comments.
#[test]
fn parsers_agree_on_the_corners_of_the_grammar() {
    let corners = [
        "backend b { server = 1 route = 2 default = 3 if = 4 bind = 5 request_header = 6 }",
        "backend b { server s = x { weight = 1 } }",
        "backend b { server s = x with y { weight = 2 } // c\n }",
        "backend b { server s = \"db\":5432 server t = [::1]:80 server u = h:p }",
        "backend b { check = checks.healthz\n\n  // trailing\n}",
        "backend b { a = [1, 2,] b = [] c = [ [x] , {y = 1} ] d = true.x }",
        "backend b { a = [a]:80 }",
        "backend b { a = 10.0.0.1:8080x b = 1.2.3.4/8 c = 30s d = 1.5 e = 3q }",
        "backend b { a = secret(\"A\") b = secret c = secret.x d = truex e = false }",
        "backend b { a = \"x\\qy\" b = \"\\n\" c = \"é\\é\" }",
        "frontend f { bind :80 tls t.u redirect https bind 8080 bind [::]:443 tls x tls y }",
        "frontend f { route host \"a\" -> redirect \"https://b\" route path exact \"/\" -> redirect }",
        "frontend f { route host \"a\" -> redirect // c\n \"https://b\" default -> redirect }",
        "frontend f { route host \"a\" -> redirect redirect = 1 }",
        "frontend f { route host \"a\" path prefix \"/\" host \"b\" -> x default -> y }",
        "frontend f { route header \"X\" -> a route header \"X\" \"v\" -> b route header \"X\" secret(\"K\") -> c }",
        "frontend f { route header \"X\" secret -> a route header \"X\" secret(\"K\" -> b }",
        "frontend f { route header \"X\" // c\n \"v\" path prefix \"/\" header \"Y\" -> a }",
        "frontend f { route from [10.0.0.0/8, \"::/0\"] -> a route from office host \"h\" -> b }",
        "frontend f { route from x { y = 1 } -> a route from -> b route from [ -> c }",
        "frontend f { route path exact \"/\" -> deny 404 default -> deny 403 }",
        "frontend f { route host \"a\" -> deny route host \"b\" -> deny 4x route host \"c\" -> deny 4.0 }",
        "frontend f { default -> deny // c\n 404 route host \"a\" -> deny deny = 1 }",
        "frontend f { if env == prod { bind :80 } else if env in [a, b,] { bind :81 } else { } }",
        "if env != prod { backend b { } } else if env == x { } else { env y }",
        "let a: list<int> = [1] let b : string = \"x\" let c = a",
        "guard g guard h { max = 1 } in prod, stage guard i in prod // c\n",
        "import std.tls import \"x.hap\" import std .tls",
        "tls t = tls.intermediate { certs = \"/c\" } tls u { certs = \"/d\" }",
        "defaults { timeout = 5s } stats { bind = :8404 }",
        "backend b { request_header \"X\" = \"v\" response_header \"Y\" = z\n}",
        "backend b { x = 1, y = 2,, }",
        "backend b-c { } backend _d { } backend 1e { }",
        "env production // the end",
        "",
        "// only a comment",
        "backend b { a = \"unterminated }",
        "backend b { a = 1_ }",
        "backend b { a = 1.2.3.4:",
        "backend b { a = :x.y }",
        "backend b { a = \"h\":80x }",
        "backend b { route host \"a\" -> }",
        "backend b with t { a = 1 } frontend f with t.u // c\n { bind :80 }",
        "backend b with { } backend c with t, u { } backend d with t { } { }",
        "backend with with with { } frontend with { } backend b with1 { }",
        "if env == x { backend b with t { server s = 1.2.3.4:80 } }",
    ];
    for text in corners {
        if let Err(e) = assert_agree(text) {
            panic!("{e}");
        }
    }
}

/// Pieces of the language, to be put together at random.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "backend",
        "frontend",
        "with",
        "server",
        "bind",
        "route",
        "host",
        "path",
        "default",
        "if",
        "else",
        "env",
        "in",
        "==",
        "!=",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "=",
        "->",
        ",",
        ":",
        ".",
        "<",
        ">",
        "x",
        "a.b",
        "prod",
        "10.0.0.1",
        "8080",
        "30s",
        "1.5",
        "10.0.0.0/8",
        "1.2.3.4:80",
        "\"s\"",
        "\"a\\q\"",
        "true",
        "false",
        "secret",
        "with",
        "let",
        "tls",
        "guard",
        "import",
        "std.tls",
        "\"f.hap\"",
        "request_header",
        "response_header",
        "redirect",
        "header",
        "from",
        "deny",
        "404",
        "[::1]",
        "-",
        "_",
        "// c\n",
        " ",
        "\n",
        "\t",
        "prefix",
        "defaults",
        "stats",
        "list",
        "int",
    ])
}

fn soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((token(), prop::sample::select(vec!["", " ", "\n"])), 0..40),
        0usize..3,
    )
        .prop_map(|(tokens, wrap)| {
            let body: String = tokens.iter().map(|(t, sep)| format!("{t}{sep}")).collect();
            match wrap {
                0 => body,
                1 => format!("backend b {{\n{body}\n}}"),
                _ => format!("frontend f {{\n{body}\n}}"),
            }
        })
}

/// Trivia and commas inserted where they may or may not belong: these keep
/// many files valid while moving where optional parts end.
fn trivia_edit() -> impl Strategy<Value = (usize, &'static str)> {
    (
        any::<usize>(),
        prop::sample::select(vec![" ", "\n", "\t", "// note\n", ",", "", "  //\n\n"]),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_agree_on_random_token_soups(text in soup()) {
        assert_agree(&text)?;
    }

    #[test]
    fn parsers_agree_on_mutated_sources(
        source in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(hostile::mutation(), 1..4),
    ) {
        let sources = repository_sources();
        let mut bytes = sources[source.index(sources.len())].1.clone().into_bytes();
        for m in &mutations {
            hostile::apply(&mut bytes, m);
        }
        // Files that are not UTF-8 never reach a parser.
        if let Ok(text) = String::from_utf8(bytes) {
            assert_agree(&text)?;
        }
    }

    #[test]
    fn parsers_agree_with_trivia_anywhere(
        source in any::<prop::sample::Index>(),
        edits in prop::collection::vec(trivia_edit(), 1..6),
    ) {
        let sources = repository_sources();
        let mut text = sources[source.index(sources.len())].1.clone();
        for (at, piece) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, piece);
        }
        assert_agree(&text)?;
    }
}

proptest! {
    // Each case parses a 300 KiB file twice: fewer cases than above.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// A large file whose backends are deferred, mutated anywhere: where
    /// the whole file parses, the deferred parse with each body parsed
    /// later gives the same tree and diagnostics; where it does not, the
    /// deferred parse does not either (a part or a body refuses).
    #[test]
    fn deferred_bodies_agree_with_the_whole_file(
        mutations in prop::collection::vec(hostile::mutation(), 1..4),
    ) {
        let mut bytes = large_backends().into_bytes();
        for m in &mutations {
            hostile::apply(&mut bytes, m);
        }
        if let Ok(text) = String::from_utf8(bytes) {
            let whole = haptic::syntax::parse_fast(FileId(0), &text);
            let deferred = haptic::syntax::parse_deferred(FileId(0), &text, 2);
            match (whole, deferred) {
                (Some((wt, mut wd)), Some((dt, mut dd))) => {
                    prop_assert!(wt == dt, "trees differ");
                    wd.sort_by_key(|d| d.span);
                    dd.sort_by_key(|d| d.span);
                    prop_assert_eq!(wd, dd);
                }
                (None, None) => {}
                (whole, deferred) => prop_assert!(
                    false,
                    "whole parses: {}, deferred parses: {}",
                    whole.is_some(),
                    deferred.is_some()
                ),
            }
        }
    }
}

/// The file the property above mutates parses, deferred and whole alike.
#[test]
fn deferred_bodies_of_a_large_file_are_its_bodies() {
    let text = large_backends();
    let whole = haptic::syntax::parse_fast(FileId(0), &text).expect("parses whole");
    let deferred = haptic::syntax::parse_deferred(FileId(0), &text, 2).expect("parses deferred");
    assert!(whole == deferred);
    assert!(whole.0.items.len() > 1000);
}

/// The nesting limit counts the `else if`s of one chain, not of a block:
/// many chains side by side, each within the limit, parse.
#[test]
fn nesting_counts_the_else_ifs_of_one_chain() {
    let chain = |n: usize| {
        let mut s = String::from("if env == a { }");
        for i in 0..n {
            s.push_str(&format!(" else if env == e{i} {{ bind :80 }}"));
        }
        s.push_str(" else { }\n");
        s
    };
    let side_by_side = format!("frontend f {{\n{}}}\n", chain(20).repeat(10));
    let (file, diags) = haptic::syntax::parse(FileId(0), &side_by_side);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(file.items.len(), 1);
    let too_long = format!("frontend f {{\n{}}}\n", chain(40));
    let (_, diags) = haptic::syntax::parse(FileId(0), &too_long);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code.as_str(), "E0003");
}

/// Backends with the constructs a skipped body must see through (brackets
/// in strings and comments, nested blocks, a condition), past the size
/// from which a file is cut into parts.
fn large_backends() -> String {
    let mut text = String::from("env production\n");
    let mut b = 0;
    while text.len() < 300 * 1024 {
        text.push_str(&format!(
            "backend b{b} {{ // }} {{\n  request_header \"X\" = \"}}{{\\\"\"\n  \
             server s = 10.0.0.1:80 {{ weight = {b}, check = false }}\n  \
             if env == production {{ retries = 3 }} else {{ retries = 2 }}\n}}\n"
        ));
        b += 1;
    }
    text
}

/// A large file is cut into parts parsed on several threads; the result is
/// the reference parser's, for a file that parses and for one that does not.
#[test]
fn large_files_parsed_in_parts_give_the_same_result() {
    let accepted: Vec<String> = repository_sources()
        .into_iter()
        .map(|(_, text)| text)
        .filter(|text| haptic::syntax::parse_fast(FileId(0), text).is_some())
        .collect();
    // Top-level `if`/`else` and `guard ... in` continue an item after its
    // `}`: the cuts must not fall there.
    let mut text = String::new();
    while text.len() < 2_200_000 {
        for source in &accepted {
            text.push_str(source);
            text.push_str("\nguard g { max = 1 }\nin prod\nif env == a { } else { }\n");
        }
    }
    let reference = haptic::syntax::parse_reference(FileId(0), &text).expect("the sources parse");
    let before = reference.0.items.len();
    let in_parts =
        haptic::syntax::parse_parts(FileId(0), &text, 4).expect("the file is cut into parts");
    assert!(in_parts == reference, "the tree parsed in parts differs");
    assert!(haptic::syntax::parse_with_threads(FileId(0), &text, 4) == reference);

    // Items that go on after their `}`, and nothing else: wherever the
    // parts are cut, it is not before `in` or `else`.
    let continued = "guard g { max = 1 }\nin prod\nif env == a { } else if env == b { } else { }\n";
    let items = continued.repeat(2_200_000 / continued.len());
    let reference = haptic::syntax::parse_reference(FileId(0), &items).expect("parses");
    for threads in [2, 3, 4] {
        let in_parts = haptic::syntax::parse_parts(FileId(0), &items, threads)
            .expect("the file is cut into parts");
        assert!(in_parts == reference, "{threads} parts differ");
    }

    // A mistake near the end: reported as pest reports it, and every item
    // before it is kept.
    text.push_str("backend last { server = }\n");
    let error = haptic::syntax::parse_reference(FileId(0), &text).expect_err("a syntax error");
    let (file, diags) = haptic::syntax::parse_with_threads(FileId(0), &text, 4);
    assert_eq!(file.items.len(), before);
    assert_eq!(file.lost.len(), 1);
    assert_eq!(diags.last(), Some(&error));
}
