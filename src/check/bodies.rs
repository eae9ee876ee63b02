//! The bodies of deferred backends.
//!
//! A large file's unconditional top-level backends are loaded with their
//! bodies unparsed (see [`crate::syntax::parse_beside`]): their syntax
//! trees were most of a large project's memory, and each fresh page costs
//! more than parsing into memory that is already there. Each body is
//! parsed here, once an environment builds its backend, and dropped once
//! built. With several environments, every body is parsed once, before
//! the first environment, and kept for all of them.
//!
//! Whatever a body yields besides its items is what the eager parse and
//! the conditions walk would have reported, and is reported the same way,
//! with no environment: the diagnostics of its literals and the unknown
//! environments of its conditions. Every deferred body is parsed at least
//! once, built or not. One that does not parse makes the check give up
//! ([`super::Reload`]): the caller loads the project again without
//! deferring, and the syntax error is then reported as for any file.

use std::borrow::Cow;

use crate::diag::Diagnostics;
use crate::hash::{Map, Set};
use crate::project::Project;
use crate::syntax::ast;

/// Where the builds of deferred backends get their bodies.
pub(super) struct Bodies<'p> {
    project: &'p Project,
    envs: &'p super::EnvNames,
    /// Every body, parsed before the first environment (several
    /// environments); `None`: each is parsed where it is built, and dropped.
    kept: Option<Map<u32, Vec<ast::BodyItem>>>,
}

/// What parsing bodies found: a build's share, merged in declaration order.
#[derive(Default)]
pub(super) struct Found {
    /// Declarations (by where they start) whose body was parsed.
    parsed: Vec<u32>,
    /// Whether a body did not parse.
    pub failed: bool,
    /// Literal diagnostics and unknown environments, with no environment.
    pub diags: Diagnostics,
}

impl Found {
    pub fn merge(&mut self, other: Found) {
        self.parsed.extend(other.parsed);
        self.failed |= other.failed;
        self.diags.merge(other.diags);
    }
}

impl<'p> Bodies<'p> {
    /// The bodies of `project`'s deferred backends, for checking the
    /// environments `envs` (all declared ones).
    pub fn new(project: &'p Project, envs: &'p super::EnvNames, found: &mut Found) -> Bodies<'p> {
        let mut bodies = Bodies {
            project,
            envs,
            kept: None,
        };
        if envs.len() != 1 {
            let decls = deferred(project);
            let runs = crate::parallel::runs(&decls, 100);
            let parts = crate::parallel::map(runs, |decls| {
                let mut part = Found::default();
                let kept: Vec<(u32, Vec<ast::BodyItem>)> = decls
                    .iter()
                    .filter_map(|decl| Some((decl.span.start, bodies.parse(decl, &mut part)?)))
                    .collect();
                (kept, part)
            });
            let mut kept = crate::hash::map_with_capacity(decls.len());
            for (part_kept, part) in parts {
                kept.extend(part_kept);
                found.merge(part);
            }
            bodies.kept = Some(kept);
        }
        bodies
    }

    /// The items of `decl`: its own, a kept body, or its body parsed now
    /// (into `found`); empty where the body does not parse (`found.failed`).
    pub fn items<'d>(&'d self, decl: &'d ast::Decl, found: &mut Found) -> Cow<'d, [ast::BodyItem]> {
        if !decl.deferred {
            return Cow::Borrowed(&decl.body);
        }
        if let Some(kept) = &self.kept {
            return match kept.get(&decl.span.start) {
                Some(items) => Cow::Borrowed(items),
                None => Cow::Borrowed(&[]),
            };
        }
        Cow::Owned(self.parse(decl, found).unwrap_or_default())
    }

    /// Parses every deferred body not parsed yet (a backend no environment
    /// built: a duplicate, or a project with no environment), for what its
    /// parse reports.
    pub fn rest(&self, found: &mut Found) {
        if self.kept.is_some() {
            return;
        }
        let parsed: Set<u32> = found.parsed.iter().copied().collect();
        for decl in deferred(self.project) {
            if !parsed.contains(&decl.span.start) {
                self.parse(decl, found);
            }
        }
    }

    fn parse(&self, decl: &ast::Decl, found: &mut Found) -> Option<Vec<ast::BodyItem>> {
        let sources = &self.project.sources;
        let (file, _) = sources.locate(decl.span);
        let Some((items, diags)) =
            crate::syntax::parse_body(sources.file_of(decl.span), &file.text, decl)
        else {
            found.failed = true;
            return None;
        };
        found.parsed.push(decl.span.start);
        for d in diags {
            found.diags.push(d);
        }
        super::body_conditions(&items, self.envs, &mut found.diags);
        Some(items)
    }
}

/// The deferred backends of `project`: top-level items only.
fn deferred(project: &Project) -> Vec<&ast::Decl> {
    project
        .files
        .iter()
        .flat_map(|f| &f.ast.items)
        .filter_map(|item| match item {
            ast::Item::Backend(decl) if decl.deferred => Some(decl),
            _ => None,
        })
        .collect()
}
