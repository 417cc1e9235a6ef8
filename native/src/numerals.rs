//! What a number is: `factsep.detection.numerals` (`references`, `not_a_fact`) in the core.
//!
//! The Python module is the reference implementation; this is a port rule for rule, held to it by
//! `tests/test_native_numerals.py`. Python's `re` and Rust's `regex` differ, so each pattern is
//! written for `regex` with Python's meaning:
//!
//! - `\w` is `[\p{L}\p{N}_]` (Python's `str.isalnum()` or `_`), `\s` is `[\s\x1c-\x1f]` (Python's
//!   `str.isspace()` takes the four information separators too), `\d` is `\p{Nd}` in both;
//! - a `\b` at a pattern's edge, where the neighbour is any character, is checked by hand: a
//!   leading one (and `(?<!...)`) on the character before the match start (a failed check resumes
//!   the search one character on, as `re` moves to the next start), a trailing one (and one-character
//!   `(?!...)`/`(?=...)`) by matching the next character (or the end) and dropping it from the match;
//!   a `\b` between two characters the pattern itself constrains stays, as both agree there;
//! - under `(?i)` Python's `i` also matches `ı` and `İ`: those letters are spelled out ([`fold_i`]);
//! - Python's `$` (without `re.M`) also matches before a final newline: `\n?\z`.
//!
//! Offsets in and out are code points (Python `str` indices); the work is on UTF-8 bytes.

use std::sync::OnceLock;

use regex::{Captures, Regex};
use regex_syntax::hir::{Class, HirKind};

use crate::pyunicode::{DECIMAL_ZEROS, DIGIT_NOT_DECIMAL};

// ---- Python's character classes -------------------------------------------------------------------

/// Sorted ranges of one Unicode class, from the same tables the regex engine uses.
struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    fn of(class: &str) -> Ranges {
        let hir = regex_syntax::Parser::new().parse(class).expect("a class the core declares");
        let HirKind::Class(Class::Unicode(c)) = hir.kind() else { panic!("{class} is no Unicode class") };
        Ranges(c.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect())
    }
    fn has(&self, c: char) -> bool {
        let c = c as u32;
        self.0.binary_search_by(|&(a, b)| if b < c { std::cmp::Ordering::Less } else if a > c { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Equal }).is_ok()
    }
}

#[allow(dead_code)] // title: not_a_fact's (the next step)
struct Classes {
    letter: Ranges,
    number: Ranges,
    decimal: Ranges,
    title: Ranges,
}

fn classes() -> &'static Classes {
    static C: OnceLock<Classes> = OnceLock::new();
    C.get_or_init(|| Classes {
        letter: Ranges::of(r"\p{L}"),
        number: Ranges::of(r"\p{N}"),
        decimal: Ranges::of(r"\p{Nd}"),
        title: Ranges::of(r"\p{Lt}"),
    })
}

/// `str.isalpha()` of one character (categories L*).
pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    classes().letter.has(c)
}

/// `str.isalnum()` of one character (L* or N*).
pub fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    classes().letter.has(c) || classes().number.has(c)
}

/// Python's `\w`.
pub fn is_word(c: char) -> bool {
    c == '_' || is_alnum(c)
}

/// `str.isdecimal()` of one character (Nd), Python's `\d`.
pub fn is_decimal(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    classes().decimal.has(c)
}

/// `str.isdigit()` of one character: decimals and the digits that are no decimals (superscripts).
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    classes().decimal.has(c) || DIGIT_NOT_DECIMAL.iter().any(|&(a, b)| (a..=b).contains(&(c as u32)))
}

/// `str.isspace()` of one character (Python's `\s`).
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `str.isdigit()` of a string (not empty).
#[allow(dead_code)] // not_a_fact's (the next step)
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_digit)
}

/// `str.isalpha()` of a string (not empty).
#[allow(dead_code)] // not_a_fact's (the next step)
fn all_alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_alpha)
}

/// `str.islower()`: a cased character, and no upper or title case one.
#[allow(dead_code)] // not_a_fact's (the next step)
fn is_lower_str(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || classes().title.has(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

/// `int()` of decimal digits; None where Python raises (a digit that is no decimal) or overflows.
#[allow(dead_code)] // not_a_fact's (the next step)
fn py_int(s: &str) -> Option<u64> {
    let mut v: u64 = 0;
    if s.is_empty() {
        return None;
    }
    for c in s.chars() {
        let d = if c.is_ascii_digit() {
            c as u32 - '0' as u32
        } else if is_decimal(c) {
            let cp = c as u32;
            let zero = DECIMAL_ZEROS.iter().rev().find(|&&z| z <= cp)?;
            cp - zero
        } else {
            return None;
        };
        v = v.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(v)
}

// ---- text helpers ----------------------------------------------------------------------------------

/// The byte offset `n` characters before `pos` (or 0).
fn back(text: &str, pos: usize, n: usize) -> usize {
    let b = text.as_bytes();
    let mut p = pos;
    let mut k = 0;
    while p > 0 && k < n {
        p -= 1;
        while p > 0 && (b[p] & 0xC0) == 0x80 {
            p -= 1;
        }
        k += 1;
    }
    p
}

/// The byte offset `n` characters after `pos` (or the end).
fn fwd(text: &str, pos: usize, n: usize) -> usize {
    let b = text.as_bytes();
    let mut p = pos;
    let mut k = 0;
    while p < b.len() && k < n {
        p += 1;
        while p < b.len() && (b[p] & 0xC0) == 0x80 {
            p += 1;
        }
        k += 1;
    }
    p
}

fn char_before(text: &str, pos: usize) -> Option<char> {
    text[..pos].chars().next_back()
}

#[allow(dead_code)] // not_a_fact's (the next step)
fn char_at(text: &str, pos: usize) -> Option<char> {
    text[pos..].chars().next()
}

/// `(?i:inner)` with Python's `i`, which matches `ı` and `İ` too (its equivalence table), Rust's not.
/// `inner` holds no class or escape with an `i` in it.
fn ci(inner: &str) -> String {
    format!("(?i:{})", inner.replace(['i', 'I'], "[iIıİ]"))
}

/// Spells the shorthand classes with Python's meaning (see the module's notes).
fn py(pattern: &str) -> String {
    pattern.replace("WORD", r"(?-i:[\p{L}\p{N}_])").replace("NONW", r"(?-i:[^\p{L}\p{N}_])").replace("SPACE", r"[\s\x1c-\x1f]")
}

fn rx(pattern: &str) -> Regex {
    Regex::new(&py(pattern)).unwrap_or_else(|e| panic!("numerals pattern {pattern}: {e}"))
}

/// What must not come right before a match (a `(?<!...)` or a leading `\b`).
#[derive(Clone, Copy)]
enum Behind {
    Any,
    /// `\b` before a word character: no word character before
    NoWord,
    /// `(?<![...])`: none of these characters before
    NoneOf(&'static str),
    /// `\b` of one alternative only: checked when this group took part
    NoWordIf(&'static str),
}

/// A pattern with Python's semantics at its edges: the real match is group `m` when the
/// pattern matches a trailing character to test it (else the whole match).
struct Pat {
    re: Regex,
    behind: Behind,
}

impl Pat {
    fn new(pattern: &str, behind: Behind) -> Pat {
        Pat { re: rx(pattern), behind }
    }

    /// The real match: from the start of the whole match to the end of `m` (or of the whole).
    fn span(c: &Captures<'_>) -> (usize, usize) {
        let all = c.get(0).expect("group 0");
        (all.start(), c.name("m").map_or(all.end(), |m| m.end()))
    }

    fn behind_ok(&self, hay: &str, c: &Captures<'_>, s: usize) -> bool {
        let prev = char_before(hay, s);
        match self.behind {
            Behind::Any => true,
            Behind::NoWord => !prev.is_some_and(is_word),
            Behind::NoneOf(set) => !prev.is_some_and(|p| set.contains(p)),
            Behind::NoWordIf(g) => c.name(g).is_none() || !prev.is_some_and(is_word),
        }
    }

    /// `re.search(hay[from:])` as `re` runs it on the whole of `hay` from `from`.
    fn search_at<'h>(&self, hay: &'h str, from: usize) -> Option<Captures<'h>> {
        let mut pos = from;
        while pos <= hay.len() {
            let c = self.re.captures_at(hay, pos)?;
            let (s, _) = Self::span(&c);
            if self.behind_ok(hay, &c, s) {
                return Some(c);
            }
            pos = fwd(hay, s, 1);
            if pos == s {
                return None;
            }
        }
        None
    }

    fn search<'h>(&self, hay: &'h str) -> Option<Captures<'h>> {
        self.search_at(hay, 0)
    }

    fn is_found(&self, hay: &str) -> bool {
        self.search(hay).is_some()
    }

    /// `re.finditer`.
    fn each<'h>(&self, hay: &'h str, mut f: impl FnMut(&Captures<'h>)) {
        let mut pos = 0;
        while pos <= hay.len() {
            let Some(c) = self.search_at(hay, pos) else { return };
            let (s, e) = Self::span(&c);
            f(&c);
            pos = if e > s { e } else { fwd(hay, e, 1) };
            if e == s && pos == e {
                return;
            }
        }
    }
}

// ---- references and commit ids ---------------------------------------------------------------------

/// (kind, subtype, signal) of a reference, by the code `references` gives it.
pub const REFERENCE_CODES: &[(&str, &str, &str)] = &[
    ("generic_id", "reference.cve", "cve_id"),
    ("generic_id", "reference.advisory", "advisory_id"),
    ("generic_id", "reference.debian_bug", "hash_cue"),
    ("generic_id", "reference.debian_bug", "hash_ref"),
    ("generic_id", "reference.issue", "hash_cue"),
    ("generic_id", "reference.issue", "hash_ref"),
    ("generic_id", "reference.pr", "pr_cue"),
    ("generic_id", "reference.bug", "bug_word"),
    ("generic_id", "reference.bug", "bug_url"),
    ("generic_id", "reference.handle", "handle"),
    ("generic_id", "reference.bug_list", "bug_list"),
    ("hex_digest", "commit.full", "commit_word"),
    ("hex_digest", "commit.abbreviated", "commit_word"),
    ("hex_digest", "commit.full", "commit_url"),
    ("hex_digest", "commit.abbreviated", "commit_url"),
    ("hex_digest", "commit.full", "gbp_line"),
    ("hex_digest", "commit.abbreviated", "gbp_line"),
    ("hex_digest", "commit.full", "log_line"),
    ("hex_digest", "commit.abbreviated", "log_line"),
    ("hex_digest", "commit.full", "git_describe"),
    ("hex_digest", "commit.abbreviated", "git_describe"),
    ("hex_digest", "commit.full", "git_version"),
    ("hex_digest", "commit.abbreviated", "git_version"),
];

const CVE: u8 = 0;
const ADVISORY: u8 = 1;
const HASH: u8 = 2; // + 0 debian cue, 1 debian ref, 2 issue cue, 3 issue ref
const PR: u8 = 6;
const BUG_WORD: u8 = 7;
const BUG_URL: u8 = 8;
const HANDLE: u8 = 9;
const BUG_LIST: u8 = 10;
const COMMIT: u8 = 11; // + 2 * cue + (0 full, 1 abbreviated)

const HEX_TOKEN: &str = "(?P<v>[0-9a-f]{7,40})";
const COMMIT_SIGNALS: usize = 6;

struct RefPats {
    cve: Pat,
    advisory: Pat,
    hash_ref: Pat,
    closes: Pat,
    pr: Pat,
    bug_word: Pat,
    bug_url: Pat,
    handle: Pat,
    bug_line: Pat,
    colour_word: Pat,
    colour_hex: Pat,
    commits: [Pat; COMMIT_SIGNALS],
}

fn ref_pats() -> &'static RefPats {
    static P: OnceLock<RefPats> = OnceLock::new();
    P.get_or_init(|| {
        let commit_word = format!(
            "{}[\\s\\x1c-\\x1f:#=(\\[]{{1,3}}(?:(?:upstream|commit|of|from|git|in|id|ID):? ){{0,2}}?(?P<m>{HEX_TOKEN})(?:NONW|\\z)",
            ci(
                "(?:commits?|committed|cherry[- ]?pick(?:ed|s)?(?: from| of)?|revert(?:s|ed)?|revision|rev|\
                 changeset|hash|sha1?|git|upstream|snapshot|backport(?:ed|s)?(?: of)?|applied|fixed in|fix(?:ed)? by|\
                 introduced (?:in|by)|regressed in|since)"
            )
        );
        RefPats {
            cve: Pat::new(r"(?P<m>(?:CVE|CAN)-(?:19|20)\d\d-\d{4,7})(?:NONW|\z)", Behind::NoneOf(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            )),
            advisory: Pat::new(
                r"(?P<m>(?:TALOS|ZDI|DSA|DLA|USN|RHSA|GHSA|OSV|TROVE)-\d{2,4}(?:-\d{1,7})+|[A-Z][A-Z0-9]{1,9}-SA-(?:19|20)\d\d-\d{3,7}|JDK-\d{7})(?:NONW|\z)",
                Behind::NoWord,
            ),
            hash_ref: Pat::new(r"(?P<m>#(?P<v>\d{3,8}))(?:[^\p{L}\p{N}_\-]|\z)", Behind::NoneOf("&#/")),
            closes: Pat::new(
                &("(?P<m>".to_string() + &ci(
                    "closes|close|closed|fixes|fixed|fix|mitigates|see|bug|bugs|lp|ticket|issue|\
                     issues|pr|merge request|mr|fd\\.o|gh|gitlab|bugzilla|bts|debbugs",
                ) + r")(?:NONW|\z)"),
                Behind::NoWord,
            ),
            pr: Pat::new(
                r"(?P<m>PR ?(?:[a-z][\p{L}\p{N}_+\-]*/)(?P<v1>\d{2,7})|(?:PR|GH|BZ|LP)(?P<v2>\d{3,7})|GH (?P<v3>\d{3,7})|(?:gh-issue|gh-pr|bpo|gh)-(?P<v4>\d{3,7}))(?:NONW|\z)",
                Behind::NoWord,
            ),
            bug_word: Pat::new(
                &(ci(
                    "(?:bug|bugs|issue|issues|ticket|pull request|bugzilla|bz|lp|gnome bug|\
                     kde bug|savannah|rhbz|boo|bsc|cid|closes)",
                ) + r"\bSPACE*(?:no\.?|nr\.?|number)?SPACE*[:#]?SPACE*#?(?P<m>(?P<v>\d{3,8}))(?:NONW|\z)"),
                Behind::NoWord,
            ),
            bug_url: Pat::new(
                r"(?:bugs\.[\p{L}\p{N}_.\-]+/|show_bug\.cgi\?id=|/(?:issues|pull|bugs|merge_requests|tickets?)/)(?P<m>(?P<v>\d{2,8}))(?:NONW|\z)",
                Behind::Any,
            ),
            handle: Pat::new(
                r"(?:hdl\.handle\.net/|(?P<b>)handle\)?:? )(?P<m>(?P<v>\d{2,6}(?:\.\d+)*/\d{2,12}))(?:NONW|\z)",
                Behind::NoWordIf("b"),
            ),
            bug_line: Pat::new(
                r"(?m)(?P<m>^[ \t]{0,8}(?:[-*\x{2022}] )?(?P<v>\d{5,7})[ \t]{1,3}(?:- )?)[A-Za-z_`'\x22(\[]",
                Behind::Any,
            ),
            colour_word: Pat::new(&ci("colou?r|rgb|background|foreground|fill|stroke|style"), Behind::Any),
            colour_hex: Pat::new(r"(?P<m>#(?P<v>[0-9a-fA-F]{3,8}))(?:NONW|\z)", Behind::Any),
            commits: [
                Pat::new(&commit_word, Behind::NoWord),
                Pat::new(
                    &format!("(?:[;?&]h=|[;?&]id=|/commits?/|/rev/|/raw-rev/|/changeset/|/tree/|/blob/)(?P<m>{HEX_TOKEN})(?:NONW|\\z)"),
                    Behind::Any,
                ),
                Pat::new(&format!(r"(?m)^SPACE*\* \[{HEX_TOKEN}\] "), Behind::Any),
                Pat::new(&format!(r"(?m)(?P<m>^ {{2,8}}{HEX_TOKEN} )[A-Za-z]"), Behind::Any),
                Pat::new(&format!(r"\d-g(?P<m>{HEX_TOKEN})(?:NONW|\z)"), Behind::Any),
                Pat::new(
                    &format!(r"(?:\+git\d{{8}}(?:\.\d+)?|\d{{14}}|(?P<b>)git\d{{8}})[+.~]g?(?P<m>{HEX_TOKEN})(?:NONW|\z)"),
                    Behind::NoWordIf("b"),
                ),
            ],
        }
    })
}

/// A reference found: byte offsets and its code in [`REFERENCE_CODES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub code: u8,
}

fn hexlike(v: &str) -> bool {
    let b = v.as_bytes();
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &c in b {
        if !seen[c as usize] {
            seen[c as usize] = true;
            distinct += 1;
        }
    }
    b.iter().any(u8::is_ascii_digit) && b.iter().any(u8::is_ascii_alphabetic) && distinct >= 4 && !b.iter().all(u8::is_ascii_digit)
}

fn line_of(text: &str, pos: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let lo = memchr::memrchr(b'\n', &b[..pos]).map_or(0, |i| i + 1);
    let hi = memchr::memchr(b'\n', &b[pos..]).map_or(b.len(), |i| pos + i);
    (lo, hi)
}

/// `_colour_line`: the line of the match, without the match, speaks of colours.
fn colour_line(p: &RefPats, text: &str, start: usize, end: usize) -> bool {
    let (lo, hi) = line_of(text, start);
    let rest = format!("{} {}", &text[lo..start], &text[end..hi.max(end)]);
    if p.colour_word.is_found(&rest) {
        return true;
    }
    let mut found = false;
    p.colour_hex.each(&rest, |c| {
        // `#(?=[0-9a-fA-F]*[a-fA-F])`: the hex run holds a letter (the run is the match: `\b` ends it)
        found |= c["v"].bytes().any(|b| b.is_ascii_alphabetic());
    });
    found
}

/// Every reference of a document, as `numerals.references` finds them (byte offsets).
pub fn references(text: &str) -> Vec<Found> {
    let p = ref_pats();
    let mut out: Vec<Found> = Vec::new();
    let span = |c: &Captures<'_>, g: &str| {
        let m = c.name(g).expect("group");
        (m.start(), m.end())
    };
    if text.contains("CVE-") || text.contains("CAN-") {
        p.cve.each(text, |c| {
            let (s, e) = span(c, "m");
            out.push(Found { start: s, end: e, code: CVE });
        });
    }
    if text.contains('-') {
        p.advisory.each(text, |c| {
            let (s, e) = span(c, "m");
            out.push(Found { start: s, end: e, code: ADVISORY });
        });
    }
    if text.contains('#') {
        p.hash_ref.each(text, |c| {
            let (ms, me) = span(c, "m");
            let (vs, ve) = span(c, "v");
            let line_start = memchr::memrchr(b'\n', &text.as_bytes()[..ms]).map_or(0, |i| i + 1);
            let before = &text[back(text, ms, 40).max(line_start)..ms];
            let cue = p.closes.search(before);
            let last = before.chars().next_back();
            let quoted = last.is_none_or(|l| "'\":=".contains(l));
            let n = text[vs..ve].chars().count();
            if cue.is_none() && (quoted || (n == 3 || n == 6) && colour_line(p, text, ms, me)) {
                return; // "#008080", "'#000080'": a colour, not a reference
            }
            let debian = cue.as_ref().is_some_and(|c| {
                let g = c["m"].to_lowercase();
                g == "closes" || g == "close" || g == "closed"
            }) || (before.trim_end_matches(is_space).ends_with(',') && before.to_lowercase().contains("closes"));
            let code = HASH + if debian { 0 } else { 2 } + if cue.is_some() { 0 } else { 1 };
            out.push(Found { start: vs, end: ve, code });
        });
    }
    if text.contains("PR") || text.contains("GH") || text.contains("BZ") || text.contains("LP") || text.contains("gh-")
        || text.contains("bpo-")
    {
        p.pr.each(text, |c| {
            let (s, e) = if c.name("v1").is_some() {
                span(c, "v1")
            } else if c.name("v2").is_some() {
                span(c, "m")
            } else if c.name("v3").is_some() {
                span(c, "v3")
            } else {
                span(c, "v4")
            };
            out.push(Found { start: s, end: e, code: PR });
        });
    }
    p.bug_word.each(text, |c| {
        let (s, e) = span(c, "v");
        out.push(Found { start: s, end: e, code: BUG_WORD });
    });
    if text.contains('/') {
        p.bug_url.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: BUG_URL });
        });
        p.handle.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: HANDLE });
        });
    }
    let mut lines: Vec<(usize, usize, usize)> = Vec::new(); // match start, value span
    p.bug_line.each(text, |c| {
        let (ms, _) = span(c, "m");
        let (vs, ve) = span(c, "v");
        lines.push((ms, vs, ve));
    });
    let newlines = |a: usize, b: usize| memchr::memchr_iter(b'\n', &text.as_bytes()[a..b]).count();
    for (i, &(ms, vs, ve)) in lines.iter().enumerate() {
        let lo = i.saturating_sub(1);
        let hi = (i + 2).min(lines.len());
        let near = (lo..hi).filter(|&j| j != i).any(|j| {
            let os = lines[j].0;
            newlines(ms.min(os), ms.max(os)) <= 2
        });
        if near {
            out.push(Found { start: vs, end: ve, code: BUG_LIST });
        }
    }
    for (k, pat) in p.commits.iter().enumerate() {
        pat.each(text, |c| {
            let (s, e) = span(c, "v");
            let v = &text[s..e];
            let n = v.len(); // ASCII hex
            if !hexlike(v) || 12 < n && n < 40 || n > 40 {
                return; // git abbreviates to 7-12 characters; a full SHA-1 is 40
            }
            let code = COMMIT + 2 * k as u8 + if n == 40 { 0 } else { 1 };
            out.push(Found { start: s, end: e, code });
        });
    }
    disjoint(out)
}

/// `_disjoint`: one reference per region, the longest (then the first found) winning.
fn disjoint(mut refs: Vec<Found>) -> Vec<Found> {
    refs.sort_by(|a, b| a.start.cmp(&b.start).then((b.end - b.start).cmp(&(a.end - a.start))));
    let mut out: Vec<Found> = Vec::new();
    for r in refs {
        if out.last().is_some_and(|l| r.start < l.end) {
            continue;
        }
        out.push(r);
    }
    out
}

/// Byte offsets to code point offsets, for offsets given in ascending order.
pub fn to_chars(text: &str, offsets: &mut [usize]) {
    if text.is_ascii() {
        return;
    }
    let (mut byte, mut ch) = (0usize, 0usize);
    for o in offsets.iter_mut() {
        debug_assert!(*o >= byte);
        ch += crate::cover::count_chars(&text.as_bytes()[byte..*o]);
        byte = *o;
        *o = ch;
    }
}

/// `references` with code point offsets: (start, end, code) a reference.
pub fn references_chars(text: &str) -> Vec<(usize, usize, u8)> {
    let found = references(text);
    let mut offsets: Vec<usize> = found.iter().flat_map(|f| [f.start, f.end]).collect();
    to_chars(text, &mut offsets);
    found.iter().enumerate().map(|(i, f)| (offsets[2 * i], offsets[2 * i + 1], f.code)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str) -> Vec<(String, &'static str)> {
        references(text).iter().map(|f| (text[f.start..f.end].to_string(), REFERENCE_CODES[f.code as usize].2)).collect()
    }

    #[test]
    fn finds_references_by_their_cues() {
        assert_eq!(refs("fixes CVE-2022-27782 now"), vec![("CVE-2022-27782".into(), "cve_id")]);
        assert_eq!(refs("  * New release (Closes: #1029349)"), vec![("1029349".into(), "hash_cue")]);
        assert_eq!(refs("colour: #008080;"), vec![]);
        assert_eq!(refs("upstream commit 3d7a2d78 fixes it"), vec![("3d7a2d78".into(), "commit_word")]);
        assert_eq!(refs("xCVE-2022-27782"), vec![]);
    }

    #[test]
    fn python_int_and_digits() {
        assert_eq!(py_int("\u{661}\u{662}"), Some(12));
        assert_eq!(py_int("\u{b2}"), None);
        assert!(is_digit('\u{b2}') && !is_decimal('\u{b2}'));
        assert!(is_word('\u{b2}') && !is_word('\u{301}'));
        assert!(is_space('\x1c'));
    }
}
