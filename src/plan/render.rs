//! Renderings of a plan: text for a terminal, Markdown for a merge-request
//! note, JSON for machines, and the `{"create","update","delete"}` report
//! that GitLab's merge-request widget reads.

use serde::Serialize;

use super::{Action, Apply, Change, EnvPlan, Object};

/// GitLab refuses notes longer than this many characters.
pub const GITLAB_NOTE_LIMIT: usize = 1_000_000;

/// The hidden first line by which a CI job finds its note to update.
pub const MARKER: &str = "<!-- haptic:plan -->";

/// One environment's plan with what the renderings need beside it.
#[derive(Debug, Clone)]
pub struct EnvReport {
    pub plan: EnvPlan,
    /// The unified diff of `haproxy.cfg` (empty when unchanged).
    pub cfg_diff: String,
    /// The unified diff of `routes.map`'s entries (empty when unchanged,
    /// or without a routes map on either side).
    pub map_diff: String,
}

impl EnvReport {
    /// Both diffs, one file after the other, as one text.
    fn diffs(&self) -> std::borrow::Cow<'_, str> {
        if self.map_diff.is_empty() {
            std::borrow::Cow::Borrowed(&self.cfg_diff)
        } else {
            std::borrow::Cow::Owned(format!("{}{}", self.cfg_diff, self.map_diff))
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub remove: usize,
    pub hitless: usize,
    pub reload: usize,
}

impl Summary {
    pub fn of(plan: &EnvPlan) -> Summary {
        let mut s = Summary::default();
        for c in &plan.changes {
            match c.action {
                Action::Add => s.add += 1,
                Action::Update => s.change += 1,
                Action::Remove => s.remove += 1,
            }
            match c.apply {
                Apply::Runtime(_) => s.hitless += 1,
                Apply::Reload(_) => s.reload += 1,
            }
        }
        s
    }

    fn total(&self) -> usize {
        self.add + self.change + self.remove
    }

    fn plan_line(&self) -> String {
        format!(
            "Plan: {} to add, {} to change, {} to remove.",
            self.add, self.change, self.remove
        )
    }

    fn live_line(&self) -> String {
        let verb = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                many.to_string()
            }
        };
        format!(
            "{} {} live through the Runtime API (hitless), {} {} a reload.",
            self.hitless,
            verb(self.hitless, "goes", "go"),
            self.reload,
            verb(self.reload, "needs", "need")
        )
    }
}

fn sign(action: Action) -> char {
    match action {
        Action::Add => '+',
        Action::Update => '~',
        Action::Remove => '-',
    }
}

/// What a destructive change does, in a word: removes, weakens a TLS
/// policy, or opens a block to more clients (`allow`, `basic_auth`).
fn destruction(change: &Change) -> &'static str {
    match (change.action, &change.object) {
        (Action::Remove, _) => "removed",
        (_, Object::Tls(_)) => "weakened",
        _ => "opened",
    }
}

fn how(change: &Change) -> String {
    match &change.apply {
        Apply::Runtime(_) => "hitless".to_string(),
        Apply::Reload(reason) => format!("reload: {reason}"),
    }
}

/// What a plan without changes says: "No changes.", or, below the note of
/// a new target version, "No other changes.".
fn no_changes(plan: &EnvPlan) -> &'static str {
    if plan.target.is_some() {
        "No other changes."
    } else {
        "No changes."
    }
}

/// Destructive changes first, the rest in plan order.
fn ordered(plan: &EnvPlan) -> Vec<&Change> {
    let (mut first, rest): (Vec<&Change>, Vec<&Change>) =
        plan.changes.iter().partition(|c| c.destructive);
    first.extend(rest);
    first
}

/// The changes of [`ordered`] as the text and Markdown list them: the
/// blocks of one kind that change only through their templates, alike
/// (the same fields, old and new values, templates and way live), are one
/// entry at the place of the first, so that a template's change used by
/// fifty backends reads as one. JSON keeps every block's own.
fn grouped(plan: &EnvPlan) -> Vec<Vec<&Change>> {
    let mut groups: Vec<Vec<&Change>> = Vec::new();
    let mut by_key: crate::hash::Map<(bool, &[super::FieldChange], &str), usize> =
        Default::default();
    for c in ordered(plan) {
        let backend = match &c.object {
            Object::Backend(_) => true,
            Object::Frontend(_) => false,
            _ => {
                groups.push(vec![c]);
                continue;
            }
        };
        // A block's fields go live with a reload.
        let (Action::Update, Apply::Reload(reason)) = (c.action, &c.apply) else {
            groups.push(vec![c]);
            continue;
        };
        let through_templates =
            !c.destructive && !c.fields.is_empty() && c.fields.iter().all(|f| f.template.is_some());
        if !through_templates {
            groups.push(vec![c]);
            continue;
        }
        match by_key.entry((backend, &c.fields, reason)) {
            std::collections::hash_map::Entry::Occupied(at) => groups[*at.get()].push(c),
            std::collections::hash_map::Entry::Vacant(at) => {
                at.insert(groups.len());
                groups.push(vec![c]);
            }
        }
    }
    groups
}

/// What a group of [`grouped`] names: the one object, or the kind and the
/// blocks' names (`backends api, web, reports`), each through `name`.
fn group_object(group: &[&Change], name: impl Fn(&str) -> String) -> String {
    if let [one] = group {
        return name(&one.object.to_string());
    }
    let kind = match &group[0].object {
        Object::Backend(_) => "backends",
        _ => "frontends",
    };
    let names: Vec<String> = group.iter().map(|c| name(block_name(c))).collect();
    format!("{kind} {}", names.join(", "))
}

/// The name of a backend's or a frontend's change.
fn block_name(c: &Change) -> &str {
    match &c.object {
        Object::Backend(name) | Object::Frontend(name) => name,
        _ => unreachable!("only blocks are grouped"),
    }
}

fn value(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(unset)")
}

/// Text for a terminal; `color` adds ANSI colours.
pub fn text(reports: &[EnvReport], color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for report in reports {
        let plan = &report.plan;
        let summary = Summary::of(plan);
        out.push_str(&paint("1", &format!("environment {}", plan.env)));
        out.push('\n');
        if let Some(note) = plan.target_note() {
            out.push_str(&format!("  {note}\n"));
        }
        if summary.total() == 0 {
            out.push_str(&format!("  {}\n\n", no_changes(plan)));
            continue;
        }
        out.push_str(&format!(
            "  {}\n  {}\n",
            summary.plan_line(),
            summary.live_line()
        ));
        let destructive: Vec<&Change> = plan.changes.iter().filter(|c| c.destructive).collect();
        if !destructive.is_empty() {
            out.push('\n');
            out.push_str(&paint("31;1", "  Destructive changes:"));
            out.push('\n');
            for c in destructive {
                out.push_str(&format!("    {} {}\n", destruction(c), c.object));
            }
        }
        out.push('\n');
        for group in grouped(plan) {
            let c = group[0];
            let code = match c.action {
                Action::Add => "32",
                Action::Update => "33",
                Action::Remove => "31",
            };
            out.push_str(&format!(
                "  {} {}  [{}]\n",
                paint(code, &sign(c.action).to_string()),
                group_object(&group, str::to_string),
                how(c)
            ));
            for f in &c.fields {
                match c.action {
                    Action::Add => out.push_str(&format!("      {}: {}\n", f.field, value(&f.new))),
                    Action::Update => out.push_str(&format!(
                        "      {}: {} -> {}{}\n",
                        f.field,
                        value(&f.old),
                        value(&f.new),
                        f.template
                            .as_ref()
                            .map(|t| format!("  (from template {t})"))
                            .unwrap_or_default()
                    )),
                    // Of a removal, only notes (`moved to`) are worth showing.
                    Action::Remove if f.old.is_none() => {
                        out.push_str(&format!("      {}: {}\n", f.field, value(&f.new)))
                    }
                    Action::Remove => {}
                }
            }
        }
        for (file, diff) in [
            ("haproxy.cfg", &report.cfg_diff),
            ("routes.map", &report.map_diff),
        ] {
            if diff.is_empty() {
                continue;
            }
            out.push_str(&format!("\n  {file}:\n"));
            for line in diff.lines() {
                let colored = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => paint("32", line),
                    Some('-') if !line.starts_with("---") => paint("31", line),
                    Some('@') => paint("36", line),
                    _ => line.to_string(),
                };
                out.push_str("    ");
                out.push_str(&colored);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

/// Inline code that shows `s` literally, even with backticks or `|` inside
/// (safe in a table cell).
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Plain text in Markdown: no HTML, no table breaks.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// Markdown for a merge-request note, at most [`GITLAB_NOTE_LIMIT`]
/// characters: when it would be longer, the `haproxy.cfg` diffs are
/// trimmed (with a note), never the plan. A plan that no note can hold
/// whole keeps what matters most (see `markdown_plan_only`).
pub fn markdown(reports: &[EnvReport], base: &str, warnings: &[String]) -> String {
    markdown_within(reports, base, warnings, GITLAB_NOTE_LIMIT)
}

pub fn markdown_within(
    reports: &[EnvReport],
    base: &str,
    warnings: &[String],
    limit: usize,
) -> String {
    let (head, sections) = markdown_plan(reports, base, warnings);
    if sections.is_empty() {
        return head;
    }
    let whole: Vec<String> = sections.iter().map(EnvSection::whole).collect();
    // Each environment's section is its plan, then its diff; the diffs
    // share what the plans leave of the limit.
    let plan_len: usize =
        head.chars().count() + whole.iter().map(|s| s.chars().count()).sum::<usize>();
    let with_diff: Vec<&EnvReport> = reports.iter().filter(|r| !r.diffs().is_empty()).collect();
    let overhead = 200;
    let room = plan_len + overhead * with_diff.len().max(1);
    if room > limit {
        return markdown_plan_only(&head, &sections, &whole, limit);
    }
    let share = (limit - room) / with_diff.len().max(1);
    let mut out = head;
    for (report, section) in reports.iter().zip(&whole) {
        out.push_str(section);
        let diffs = report.diffs();
        if diffs.is_empty() {
            continue;
        }
        let (diff, trimmed) = trim_lines(&diffs, share);
        let longest = diff.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let files = match (report.cfg_diff.is_empty(), report.map_diff.is_empty()) {
            (false, false) => "haproxy.cfg and routes.map",
            (true, false) => "routes.map",
            _ => "haproxy.cfg",
        };
        out.push_str(&format!("<details><summary>{files} diff</summary>\n\n"));
        out.push_str(&format!("{fence}diff\n{diff}"));
        if !diff.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{fence}\n"));
        if trimmed > 0 {
            out.push_str(&format!(
                "\n_{trimmed} more line(s) of the diff left out to stay within GitLab's note limit; run `haptic diff` for all of it._\n"
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    out
}

/// The note when the plan and its diffs are longer than `limit`: no diffs.
/// When the plan alone is longer too, which no note can hold whole: every
/// environment's title and summary, then its destructive changes, then the
/// rows of its table, as many as fit, each list saying how many of its
/// lines were left out.
fn markdown_plan_only(
    head: &str,
    sections: &[EnvSection],
    whole: &[String],
    limit: usize,
) -> String {
    // The plan may fit once the diffs are out: then that is all it says.
    let short = "> The `haproxy.cfg` diffs are left out to stay within GitLab's note \
        limit; `haptic diff` prints them.\n\n";
    let whole_len = head.chars().count()
        + short.chars().count()
        + whole.iter().map(|s| s.chars().count()).sum::<usize>();
    if whole_len <= limit {
        return format!("{head}{short}{}", whole.concat());
    }
    let notice = "> **This plan is longer than a GitLab note can hold.** Each environment's \
        summary comes first, then its destructive changes, then its other changes, as \
        many as fit; the `haproxy.cfg` diffs are left out. `haptic diff` prints all of it.\n\n";
    // Room for the notes and headers a section may add, beside its lines.
    let per_section = 400;
    let fixed = head.chars().count()
        + notice.chars().count()
        + sections
            .iter()
            .map(|s| s.head.chars().count() + per_section)
            .sum::<usize>();
    let budget = limit.saturating_sub(fixed);
    let destructive: Vec<&[String]> = sections.iter().map(|s| s.destructive.as_slice()).collect();
    let (kept_destructive, left) = fit(&destructive, budget);
    let rows: Vec<&[String]> = sections.iter().map(|s| s.rows.as_slice()).collect();
    let (kept_rows, _) = fit(&rows, left);
    let mut out = format!("{head}{notice}");
    for (section, (&d, &r)) in sections.iter().zip(kept_destructive.iter().zip(&kept_rows)) {
        out.push_str(&section.render(d, r));
    }
    if out.chars().count() > limit {
        // Only a project with thousands of environments or warnings gets
        // here: the summaries alone do not fit.
        let (kept, _) = trim_lines(&out, limit.saturating_sub(200));
        out = kept;
        out.push_str(&format!("\n_The rest of the plan is {LEFT_OUT}._\n"));
    }
    out
}

/// At most `budget` characters of whole lines; returns how many lines were
/// left out.
fn trim_lines(text: &str, budget: usize) -> (String, usize) {
    let mut out = String::new();
    let mut used = 0;
    let mut lines = text.lines();
    for line in lines.by_ref() {
        let len = line.chars().count() + 1;
        if used + len > budget {
            return (out, 1 + lines.count());
        }
        used += len;
        out.push_str(line);
        out.push('\n');
    }
    (out, 0)
}

/// One environment's part of the Markdown plan: what is always shown,
/// then the lines that may be left out when the plan alone is longer than
/// a note can hold, the most important first.
struct EnvSection {
    /// The title and the summary, or "No changes.".
    head: String,
    /// `> - **removed** ...` lines.
    destructive: Vec<String>,
    /// Rows of the change table.
    rows: Vec<String>,
}

/// Said where lines of a plan are left out.
const LEFT_OUT: &str =
    "left out: the plan is longer than a GitLab note can hold; run `haptic diff` for all of it";

impl EnvSection {
    /// The section with its first `destructive` and `rows` lines, and how
    /// many of each were left out.
    fn render(&self, destructive: usize, rows: usize) -> String {
        let mut s = self.head.clone();
        if !self.destructive.is_empty() {
            s.push_str("> **Destructive changes**\n");
            for line in &self.destructive[..destructive] {
                s.push_str(line);
            }
            let left = self.destructive.len() - destructive;
            if left > 0 {
                s.push_str(&format!(
                    "> - _{left} more destructive change(s) {LEFT_OUT}._\n"
                ));
            }
            s.push('\n');
        }
        if !self.rows.is_empty() {
            if rows > 0 {
                s.push_str("| | object | change | goes live |\n|---|---|---|---|\n");
                for row in &self.rows[..rows] {
                    s.push_str(row);
                }
                s.push('\n');
            }
            let left = self.rows.len() - rows;
            if left > 0 {
                s.push_str(&format!("_{left} change(s) {LEFT_OUT}._\n\n"));
            }
        }
        s
    }

    fn whole(&self) -> String {
        self.render(self.destructive.len(), self.rows.len())
    }
}

/// The header, then one plan section per environment (without diffs).
fn markdown_plan(
    reports: &[EnvReport],
    base: &str,
    warnings: &[String],
) -> (String, Vec<EnvSection>) {
    let mut head = format!("{MARKER}\n## haptic plan\n\nAgainst {}.\n\n", code(base));
    if reports.iter().all(|r| r.plan.is_empty()) {
        let envs: Vec<String> = reports.iter().map(|r| code(&r.plan.env)).collect();
        head.push_str(&format!("No changes in {}.\n", envs.join(", ")));
        return (head, Vec::new());
    }
    if !warnings.is_empty() {
        head.push_str("**Warnings**\n\n");
        for w in warnings {
            head.push_str(&format!("- {}\n", escape(w)));
        }
        head.push('\n');
    }
    let mut sections = Vec::new();
    for report in reports {
        let plan = &report.plan;
        let summary = Summary::of(plan);
        let mut section = EnvSection {
            head: format!("### {}\n\n", code(&plan.env)),
            destructive: Vec::new(),
            rows: Vec::new(),
        };
        if let Some(note) = plan.target_note() {
            section.head.push_str(&format!("> {}\n\n", escape(&note)));
        }
        if summary.total() == 0 {
            section.head.push_str(&format!("{}\n\n", no_changes(plan)));
            sections.push(section);
            continue;
        }
        section.head.push_str(&format!(
            "**{}** {}\n\n",
            summary.plan_line(),
            summary.live_line()
        ));
        for c in plan.changes.iter().filter(|c| c.destructive) {
            section.destructive.push(format!(
                "> - **{}** {}\n",
                destruction(c),
                code(&c.object.to_string())
            ));
        }
        for group in grouped(plan) {
            section.rows.push(table_row(&group));
        }
        sections.push(section);
    }
    (head, sections)
}

/// A change, or a group of alike ones (see [`grouped`]), as a row of the
/// plan's table.
fn table_row(group: &[&Change]) -> String {
    let c = group[0];
    let detail = match c.action {
        Action::Remove => {
            let notes = c.fields.iter().filter(|f| f.old.is_none());
            let parts: Vec<String> = std::iter::once("removed".to_string())
                .chain(notes.map(|f| format!("{}: {}", escape(f.field), code(value(&f.new)))))
                .collect();
            parts.join("<br>")
        }
        Action::Add => {
            let parts: Vec<String> = std::iter::once("added".to_string())
                .chain(
                    c.fields
                        .iter()
                        .map(|f| format!("{}: {}", escape(f.field), code(value(&f.new)))),
                )
                .collect();
            parts.join("<br>")
        }
        Action::Update => {
            let parts: Vec<String> = c
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} → {}{}",
                        escape(f.field),
                        code(value(&f.old)),
                        code(value(&f.new)),
                        f.template
                            .as_ref()
                            .map(|t| format!(" (from template {})", code(t)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            parts.join("<br>")
        }
    };
    let live = match &c.apply {
        Apply::Runtime(_) => "hitless".to_string(),
        Apply::Reload(reason) => format!("reload: {}", escape(reason)),
    };
    format!(
        "| {} | {} | {} | {} |\n",
        sign(c.action),
        group_object(group, code),
        detail,
        live
    )
}

/// How many leading lines of each list fit in `budget` characters, shared
/// between the lists in order: each takes at most an equal share of what
/// the lists after it have not taken, so that a long list does not crowd
/// out the ones after it. Also what is left of the budget.
fn fit(lists: &[&[String]], mut budget: usize) -> (Vec<usize>, usize) {
    let mut kept = Vec::with_capacity(lists.len());
    for (i, lines) in lists.iter().enumerate() {
        let share = budget / (lists.len() - i);
        let mut used = 0;
        let mut count = 0;
        for line in lines.iter() {
            let len = line.chars().count();
            if used + len > share {
                break;
            }
            used += len;
            count += 1;
        }
        budget -= used;
        kept.push(count);
    }
    (kept, budget)
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    version: u32,
    base: &'a str,
    environments: Vec<JsonEnv<'a>>,
    totals: Summary,
}

#[derive(Serialize)]
struct JsonEnv<'a> {
    name: &'a str,
    summary: Summary,
    reload_needed: bool,
    /// The target HAProxy versions, where the new sources change it.
    target: Option<JsonTarget>,
    changes: Vec<JsonChange<'a>>,
    haproxy_cfg_diff: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    routes_map_diff: &'a str,
}

#[derive(Serialize)]
struct JsonTarget {
    old: &'static str,
    new: &'static str,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    object: String,
    action: &'static str,
    destructive: bool,
    live: &'static str,
    reason: Option<&'a str>,
    commands: Vec<String>,
    fields: Vec<JsonField<'a>>,
}

#[derive(Serialize)]
struct JsonField<'a> {
    field: &'a str,
    old: Option<&'a str>,
    new: Option<&'a str>,
    /// The template the change came through, where it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
}

fn totals(reports: &[EnvReport]) -> Summary {
    reports
        .iter()
        .map(|r| Summary::of(&r.plan))
        .fold(Summary::default(), |a, b| Summary {
            add: a.add + b.add,
            change: a.change + b.change,
            remove: a.remove + b.remove,
            hitless: a.hitless + b.hitless,
            reload: a.reload + b.reload,
        })
}

/// The plan for machines.
pub fn json(reports: &[EnvReport], base: &str) -> String {
    let plan = JsonPlan {
        version: 1,
        base,
        totals: totals(reports),
        environments: reports
            .iter()
            .map(|r| JsonEnv {
                name: &r.plan.env,
                summary: Summary::of(&r.plan),
                reload_needed: r.plan.needs_reload(),
                target: r.plan.target.map(|(old, new)| JsonTarget {
                    old: old.name(),
                    new: new.name(),
                }),
                haproxy_cfg_diff: &r.cfg_diff,
                routes_map_diff: &r.map_diff,
                changes: r
                    .plan
                    .changes
                    .iter()
                    .map(|c| JsonChange {
                        object: c.object.to_string(),
                        action: match c.action {
                            Action::Add => "add",
                            Action::Update => "update",
                            Action::Remove => "remove",
                        },
                        destructive: c.destructive,
                        live: match c.apply {
                            Apply::Runtime(_) => "hitless",
                            Apply::Reload(_) => "reload",
                        },
                        reason: match &c.apply {
                            Apply::Reload(reason) => Some(reason),
                            Apply::Runtime(_) => None,
                        },
                        commands: match &c.apply {
                            Apply::Runtime(commands) => commands.iter().map(|c| c.line()).collect(),
                            Apply::Reload(_) => Vec::new(),
                        },
                        fields: c
                            .fields
                            .iter()
                            .map(|f| JsonField {
                                field: f.field,
                                old: f.old.as_deref(),
                                new: f.new.as_deref(),
                                template: f.template.as_deref(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&plan).unwrap_or_default() + "\n"
}

/// The report GitLab's merge-request widget reads
/// (`artifacts:reports:terraform`).
pub fn gitlab_widget(reports: &[EnvReport]) -> String {
    let t = totals(reports);
    format!(
        "{{\"create\":{},\"update\":{},\"delete\":{}}}\n",
        t.add, t.change, t.remove
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_code_survives_backticks_and_pipes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }

    #[test]
    fn trimming_keeps_whole_lines() {
        let (kept, left) = trim_lines("aaa\nbbb\nccc\n", 9);
        assert_eq!(kept, "aaa\nbbb\n");
        assert_eq!(left, 1);
    }
}
