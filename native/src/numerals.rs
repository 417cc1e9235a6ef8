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

/// `factsep.detection.numerals.rules_digest()` of the rules this port follows: Python uses the core
/// only when its rules have this digest (a rule changed in Python and not here keeps Python's).
pub const RULES: &str = "e38ade93ce4c14b7";
/// `_DIGITS_IN_ORDER` and its reverse.
const DIGITS_IN_ORDER: &str = "01234567890123456789";
const DIGITS_IN_REVERSE: &str = "98765432109876543210";

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
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_digit)
}

/// `str.isalpha()` of a string (not empty).
fn all_alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_alpha)
}

/// `str.islower()`: a cased character, and no upper or title case one.
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
    /// `\b` before a character that is no word character: a word character before
    Word,
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
            Behind::Word => prev.is_some_and(is_word),
        }
    }

    /// `re.search(hay[from:])` as `re` runs it on the whole of `hay` from `from`.
    ///
    /// The regex's fast search finds where the next match starts; groups are read only for a match
    /// that is kept (or whose check needs them), from its start.
    fn search_at<'h>(&self, hay: &'h str, from: usize) -> Option<Captures<'h>> {
        let mut pos = from;
        while pos <= hay.len() {
            let s = self.re.find_at(hay, pos)?.start();
            let prev_ok = match self.behind {
                Behind::Any => Some(true),
                Behind::NoWord => Some(!char_before(hay, s).is_some_and(is_word)),
                Behind::NoneOf(set) => Some(!char_before(hay, s).is_some_and(|p| set.contains(p))),
                Behind::Word => Some(char_before(hay, s).is_some_and(is_word)),
                Behind::NoWordIf(_) => None,
            };
            if prev_ok != Some(false) {
                let c = self.re.captures_at(hay, s).expect("a match starts here");
                if prev_ok == Some(true) || self.behind_ok(hay, &c, s) {
                    return Some(c);
                }
            }
            pos = fwd(hay, s, 1);
            if pos == s {
                return None;
            }
        }
        None
    }

    /// Whether `re.search` finds anything (no groups read unless the check needs them).
    fn is_found(&self, hay: &str) -> bool {
        match self.behind {
            Behind::Any => self.re.is_match(hay),
            Behind::NoWordIf(_) => self.search_at(hay, 0).is_some(),
            _ => {
                let mut pos = 0;
                while pos <= hay.len() {
                    let Some(m) = self.re.find_at(hay, pos) else { return false };
                    let s = m.start();
                    if self.behind_ok_at(hay, s) {
                        return true;
                    }
                    pos = fwd(hay, s, 1);
                    if pos == s {
                        return false;
                    }
                }
                false
            }
        }
    }

    fn behind_ok_at(&self, hay: &str, s: usize) -> bool {
        let prev = char_before(hay, s);
        match self.behind {
            Behind::NoWord => !prev.is_some_and(is_word),
            Behind::NoneOf(set) => !prev.is_some_and(|p| set.contains(p)),
            Behind::Word => prev.is_some_and(is_word),
            _ => true,
        }
    }

    fn search<'h>(&self, hay: &'h str) -> Option<Captures<'h>> {
        self.search_at(hay, 0)
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

/// Patterns of one Python pattern's alternatives, split where their edge checks differ: found when
/// any is (only ever asked whether `re.search` finds something).
struct Cue(Vec<Pat>);

impl Cue {
    fn is_found(&self, hay: &str) -> bool {
        self.0.iter().any(|p| p.is_found(hay))
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
    ("generic_id", "reference.issue", "bug_word"),
    ("generic_id", "reference.patent", "patent"),
    ("hex_digest", "fingerprint.openpgp", "fingerprint"),
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
const ROLE: u8 = 23;
const PATENT: u8 = 24;
const FINGERPRINT: u8 = 25;

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
    query_id: Pat,
    fragment_id: Pat,
    bug_more: Regex,
    patent: Pat,
    fingerprint: Pat,
    role_ref: Pat,
    mr_ref: Pat,
    bug_row: Pat,
    bugs_heading: Regex,
    digits: Regex,
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
                r"(?P<m>(?:TALOS|ZDI|DSA|DLA|USN|RHSA|GHSA|OSV|TROVE)-\d{2,4}(?:-\d{1,7})+|[A-Z][A-Z0-9]{1,9}-SA-(?:19|20)\d\d-\d{3,7}|JDK-\d{7}|[A-Z]{2,9}SEC-(?:19|20)\d\d-\d{2,7})(?:NONW|\z)",
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
                ) + r"(?:SPACE+(?:no\.?|nr\.?|number)?SPACE*[:#=]?SPACE*#?|[:#=]SPACE*#?)(?P<m>(?P<v>\d{3,9}))(?:NONW|\z)"),
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
            // the match's end only sets where the next search starts, on a later line (`^`) either way
            bug_line: Pat::new(
                r"(?m)^[ \t]{0,8}(?:[-*\x{2022}] )?\[?(?P<v>\d{5,7})\]?(?:[ \t]{1,3}(?:- )?[A-Za-z_`'\x22(\[.]|[ \t]*$)",
                Behind::Any,
            ),
            query_id: Pat::new(
                r"[?&;](?:m|id|msg|mid|message|msgid|topic|post|thread|p)=(?P<m>(?P<v>\d{6,20}))(?:[^\p{L}\p{N}_.]|\z)",
                Behind::Any,
            ),
            fragment_id: Pat::new(
                r"#(?:issuecomment-|discussion_r|note_|comment-|c)(?P<m>(?P<v>\d{2,12}))(?:[^\p{L}\p{N}_.]|\z)",
                Behind::Any,
            ),
            bug_more: rx(r"\A[ \t]*(?:,|and|&)SPACE*(?P<h>#?)(?P<m>(?P<v>\d{3,9}))(?:NONW|\z)"),
            patent: Pat::new(
                &(ci("(?:patents?|pat\\.)(?: application)?(?: serial)?(?: nos?\\.?| numbers?| #)?")
                    + r"[ \t]*:?[ \t]*(?P<m>(?P<v>(?:[A-Z]{2}[ \-]?)?(?:\d{1,2}/\d{3},\d{3}|\d{1,2},\d{3},\d{3}|\d{6,10})(?: ?[A-C]\d)?))(?:[^\p{L}\p{N}_,/]|\z)"),
                Behind::NoWord,
            ),
            fingerprint: Pat::new(
                r"(?P<m>[0-9A-F]{4}(?: [0-9A-F]{4}){4}  [0-9A-F]{4}(?: [0-9A-F]{4}){4})(?:NONW|\z)",
                Behind::NoWord,
            ),
            role_ref: Pat::new(&ci(":(?:WORD*bug|issue|gh|ghissue|pr|pull|bpo|mr|ticket|cve|lp):`(?P<v>\\d{2,8})`"), Behind::Any),
            mr_ref: Pat::new(r"(?m)(?:^[ \t]{0,8}(?:[-*] )?|[(\[,] ?)(?P<m>!(?P<v>\d{2,6}))(?:[^\p{L}\p{N}_!=]|\z)", Behind::Any),
            bug_row: Pat::new(r"(?m)^[ \t]{0,8}\d{5,7}(?:[ \t]+\d{5,7})+[ \t]*$", Behind::Any),
            bugs_heading: rx(&(String::from(r"\A") + &ci(r"[ \t]*[-*\x{2022}]?[ \t]*(?:WORD+ )?bugs? (?:fixed|closed|resolved)[^\n]{0,20}:[ \t]*\n"))),
            digits: rx(r"\d+"),
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

/// Where a line's colour cues are: (line start, the end of the cue that ends first, the start of
/// the cue that starts last), byte offsets in the text.
type LineCues = (usize, usize, usize);

/// The colour cues of the line starting at `lo`: every place a colour word matches (overlapping
/// ones too) and every hex colour with a letter (`#(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{3,8}\b`: the
/// run is the match, `\b` ends it).
fn line_cues(p: &RefPats, text: &str, lo: usize, hi: usize) -> LineCues {
    let line = &text[lo..hi];
    let (mut first_end, mut last_start) = (usize::MAX, 0usize);
    let mut seen = false;
    let mut pos = 0;
    while let Some(m) = p.colour_word.re.find_at(line, pos) {
        first_end = first_end.min(m.end());
        last_start = last_start.max(m.start());
        seen = true;
        pos = fwd(line, m.start(), 1);
        if pos > line.len() || pos == m.start() {
            break;
        }
    }
    p.colour_hex.each(line, |c| {
        if c["v"].bytes().any(|b| b.is_ascii_alphabetic()) {
            let (s, e) = Pat::span(c);
            first_end = first_end.min(e);
            last_start = last_start.max(s);
            seen = true;
        }
    });
    if !seen {
        return (lo, usize::MAX, usize::MAX);
    }
    (lo, lo + first_end, lo + last_start)
}

/// `_colour_line`: the line of the match, without the match, speaks of colours. Python searches the
/// line with the match replaced by a space; no cue holds a space or a "#" and digits, so that finds
/// a cue iff one lies wholly before the match or wholly after it (both checked on the line once,
/// not once a match: a line of a megabyte of "#123" stays linear).
fn colour_line(p: &RefPats, text: &str, start: usize, end: usize, cache: &mut Option<LineCues>) -> bool {
    let (lo, hi) = line_of(text, start);
    let cues = match *cache {
        Some(c) if c.0 == lo => c,
        _ => {
            let c = line_cues(p, text, lo, hi);
            *cache = Some(c);
            c
        }
    };
    let (_, first_end, last_start) = cues;
    first_end != usize::MAX && (first_end <= start || last_start >= end)
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
        let mut line_cache: Option<LineCues> = None;
        p.hash_ref.each(text, |c| {
            let (ms, me) = span(c, "m");
            let (vs, ve) = span(c, "v");
            let line_start = memchr::memrchr(b'\n', &text.as_bytes()[..ms]).map_or(0, |i| i + 1);
            let before = &text[back(text, ms, 40).max(line_start)..ms];
            let cue = p.closes.search(before);
            let last = before.chars().next_back();
            // a "#" at the start of a line is no quoted colour: "#21633: title" lists tickets
            let quoted = last.is_some_and(|l| "'\":=".contains(l));
            let n = text[vs..ve].chars().count();
            if cue.is_none() && (quoted || (n == 3 || n == 6) && colour_line(p, text, ms, me, &mut line_cache)) {
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
    if text.contains(":`") {
        p.role_ref.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: ROLE });
        });
    }
    if text.contains('!') {
        p.mr_ref.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: PR });
        });
    }
    p.bug_word.each(text, |c| {
        let (s, e) = span(c, "v");
        out.push(Found { start: s, end: e, code: BUG_WORD });
        // the label names the whole list: "#" and digits, or five digits or more (not a year)
        let mut pos = e;
        while let Some(m) = p.bug_more.captures(&text[pos..]) {
            let v = m.name("v").expect("group");
            if m["h"].is_empty() && v.as_str().chars().count() < 5 {
                break;
            }
            out.push(Found { start: pos + v.start(), end: pos + v.end(), code: BUG_WORD });
            pos += v.end();
        }
    });
    if text.contains("at") || text.contains("AT") {
        p.patent.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: PATENT });
        });
    }
    if text.contains("  ") {
        p.fingerprint.each(text, |c| {
            let (s, e) = span(c, "m");
            let v = &text[s..e];
            if v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic()) {
                out.push(Found { start: s, end: e, code: FINGERPRINT });
            }
        });
    }
    if text.contains('/') {
        p.bug_url.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: BUG_URL });
        });
        p.handle.each(text, |c| {
            let (s, e) = span(c, "v");
            out.push(Found { start: s, end: e, code: HANDLE });
        });
        if text.contains('=') {
            p.query_id.each(text, |c| {
                let ms = c.get(0).expect("group 0").start();
                if text[back(text, ms, 200)..ms].contains("://") {
                    let (s, e) = span(c, "v");
                    out.push(Found { start: s, end: e, code: BUG_URL });
                }
            });
        }
        if text.contains('#') {
            p.fragment_id.each(text, |c| {
                let ms = c.get(0).expect("group 0").start();
                if text[back(text, ms, 200)..ms].contains("://") {
                    let (s, e) = span(c, "v");
                    out.push(Found { start: s, end: e, code: BUG_URL });
                }
            });
        }
    }
    if text.contains('\n') {
        p.bug_row.each(text, |c| {
            // a line of bug numbers only, right under a heading that names them ("* Bugs fixed:")
            let m = c.get(0).expect("group 0");
            let b = text.as_bytes();
            let lo = memchr::memrchr(b'\n', &b[..m.start().saturating_sub(1)]).map_or(0, |i| i + 1);
            if p.bugs_heading.is_match(&text[lo..m.start()]) {
                for n in p.digits.find_iter(m.as_str()) {
                    out.push(Found { start: m.start() + n.start(), end: m.start() + n.end(), code: BUG_LIST });
                }
            }
        });
    }
    let mut lines: Vec<(usize, usize, usize)> = Vec::new(); // match start, value span
    p.bug_line.each(text, |c| {
        let ms = c.get(0).expect("group 0").start();
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
            if !hexlike(v) || 16 < n && n < 40 || n > 40 {
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


// ---- numbers that are no random facts ---------------------------------------------------------------

/// The reasons `not_a_fact` gives, by the code the core returns.
pub const REASONS: &[&str] = &[
    "url", "cut", "quantity", "code constant", "version", "year list", "date", "timestamp", "code table",
    "standard number", "name", "postal code", "placeholder", "address", "constant", "network",
];

/// What `not_a_fact` says: no reason, a reason, or "ask the Python rules" (input the port does not
/// mirror: an IPv6 value, a digit `int()` refuses, a span outside the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fact,
    Reason(&'static str),
    Defer,
}

use Verdict::{Defer, Fact, Reason};

struct FactPats {
    obfuscated_at: Regex,
    dash_caps: Regex,
    two_values: Regex,
    year_comma: Regex,
    year: Regex,
    day_year: Regex,
    quarter: Regex,
    zone: Regex,
    standard_cue: Cue,
    standard_value: Regex,
    ec_number: Regex,
    paragraph: Regex,
    cfr_through: Regex,
    header: Regex,
    plus_version: Regex,
    version_cue: Cue,
    version_value: Regex,
    dotted: Regex,
    two_lower: Regex,
    decimals: Regex,
    zip: Regex,
    zip4: Regex,
    state: Pat,
    doc_placeholder: Cue,
    doctest_prompt: Regex,
    fraction: Regex,
    stated: Regex,
    house: Regex,
    unit_before: Pat,
    street_word: Pat,
    street_compound: Regex,
    ip_words: Pat,
    ip_word_any: Regex,
    oid_word: Pat,
    oid_common: Regex,
    list_number: Regex,
    decade_range: Regex,
    standard_name: Pat,
    release_date: Regex,
    version_date: Regex,
    dotted_version: Regex,
    underline: Regex,
    element_args: Regex,
    signed_pair: Regex,
    number_row: Regex,
    number_value: Regex,
    unit_number: Regex,
    netmask: Pat,
    netmask_word: Pat,
    numbers_like: Pat,
    cidr: Regex,
    year_edition: Regex,
    standard_edition: Regex,
    file_extension: Regex,
    version_list: Regex,
    prefix_length: Regex,
    bullet_line: Regex,
    last_token: Regex,
    protocol_after: Regex,
    protocol_before: Pat,
}

fn fact_pats() -> &'static FactPats {
    static P: OnceLock<FactPats> = OnceLock::new();
    P.get_or_init(|| FactPats {
        obfuscated_at: rx(r"\A(?: (?:at|AT|\[at\]|\(at\)) [a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})(?:NONW|\z)"),
        dash_caps: rx(r"\A-[A-Z]{2,}(?:NONW|\z)"),
        two_values: rx(r"[A-Za-z]WORD*, +[A-Za-z]"),
        year_comma: rx(r"\A(?:19|20)\d\d, "),
        year: rx(r"\A(?:19|20)\d\d\z"),
        day_year: rx(r"\A(?:\d{1,2},? (?:19|20)\d\d|\d{1,2}/(?:19|20)\d\d)\z"),
        quarter: rx(r"\A(?:(?:19|20)\d\d ?[QH]\d|[QH]\d ?(?:19|20)\d\d)\z"),
        zone: rx(r"\A\d{1,2} ?[+\-]\d{4}\n?\z"),
        // `\b` before "§" (no word character) wants a word character before it
        standard_cue: Cue(vec![
            Pat::new(
                r"(?:RFCs?|ISO(?:/IEC)?(?: IS| DIS)?|DIS|Std|IEC|ECMA|POSIX|GOST|DFARS?|DFARs|FARs?|CFR|IEEE|ANSI|ITU(?:-T)?|NIST|SP ?800|FIPS|C\.F\.R\.|EN|DIN|JIS|BS|UN|ECE|EC|EU|EEC|OIDs?|ASN\.1|X|Directive|Regulation|Clause|clause|section|Section|sect\.|chapter|Chapter|art\.|Article|paragraph|Table|table|figure|Figure|Appendix)[\s\x1c-\x1f.\-/]{0,3}(?:No\.? ?)?\n?\z",
                Behind::NoWord,
            ),
            Pat::new(r"§[\s\x1c-\x1f.\-/]{0,3}(?:No\.? ?)?\n?\z", Behind::Word),
        ]),
        standard_value: rx(r"\A(?:RFC|ISO|IEC|IEEE|ECMA|POSIX|GOST|ANSI|FIPS|DIN|JIS|SP|PR|GH)[ \-]?\d"),
        ec_number: rx(r"\A\d{3}-\d{3}-\d\z"),
        paragraph: rx(r"\A\d{2,3}\.\d{3,4}-\d{1,2}\z"),
        cfr_through: rx(r"(?:C\.F\.R\.|DFARS?|FAR)SPACE[\d.\-]+SPACE(?:through|to|and|or)SPACE\n?\z"),
        header: rx(r"\A[a-z0-9][a-z0-9.+\-]* \((?P<v>[^()\n]{1,80})\) [\p{L}\p{N}_\-]+(?: [\p{L}\p{N}_\-]+)*; urgency="),
        plus_version: rx(r"[0-9A-Za-z.~]\+[0-9A-Za-z]"),
        version_cue: Cue(vec![
            Pat::new(
                &(ci("(?:versions?|ver\\.?|v|versi(?:ón|one|e|on)|versão|release[sd]?|policy|upgraded? to|bump(?:ed)? to|new upstream(?: release| version)?|upstream|debhelper)")
                    + r"SPACE?\n?\z"),
                Behind::NoWord,
            ),
            Pat::new(&(ci("(?:バージョン|版本|버전|standards-version:?|<<|>>|<=|>=|\\(=)") + r"SPACE?\n?\z"), Behind::Any),
        ]),
        version_value: rx(r"\A\d+(?:[.\-]\d+)+(?:-\d+)?\z"),
        dotted: rx(r"\A(?:0|[1-9]\d{0,2})(?:\.\d{1,3}){2,}\z"),
        two_lower: rx(r"[a-z]{2}"),
        decimals: rx(r"\A(?:\d+\.\d+(?: \d+\.\d+)+|0\.\d+|[1-9]\d{3,}\.\d{3,})\z"),
        zip: rx(r"\A\d{5}(?:-\d{4})?\z"),
        zip4: rx(r"\A\d{5}-\d{4}\z"),
        state: Pat::new(
            &(ci("(?:[A-Zıİ]{2},?SPACE{1,2}|(?:zip|postal|postcode|post code|plz|cep|cap)NONW{0,3})") + r"\n?\z"),
            Behind::NoWord,
        ),
        doc_placeholder: Cue(vec![
            Pat::new(
                &(ci("(?:example_number|example|sample|dummy|placeholder)") + r"NONW{0,4}(?:WORD+NONW{1,3}){0,1}\n?\z"),
                Behind::NoWord,
            ),
            Pat::new(r">>>NONW{0,4}(?:WORD+NONW{1,3}){0,1}\n?\z", Behind::Any),
        ]),
        doctest_prompt: rx(r"\A[ \t]*(?:>>>|\.\.\.)(?: |\n?\z)"),
        fraction: rx(r"\A(?P<p>\d{1,9})/(?P<q>\d{1,9})\z"),
        stated: rx(r"\ASPACE*(?:is |are |equals |=|≈|~)SPACE*(?:about |approximately |roughly |around |nearly )?(?P<v>-?\d+(?:\.\d+)?)"),
        house: rx(r"\A\d{1,6}(?: \d{1,6})?\z"),
        unit_before: Pat::new(
            &(ci("(?:apt|apartment|suite|ste|unit|flat|room|rm|floor|box|no|nr|house|bldg|building)") + r"\.?SPACE?#?SPACE?\n?\z"),
            Behind::NoWord,
        ),
        street_word: Pat::new(
            &(ci("(?:street|st|avenue|ave|av|road|rd|lane|ln|drive|dr|close|place|pl|square|sq|way|boulevard|blvd|\
                  court|ct|terrace|crescent|parkway|pkwy|highway|hwy|alley|row|walk|rue|chemin|allée|calle|carrer|avenida|\
                  rua|travessa|via|viale|piazza|corso|straße|strasse|gasse|platz|allee|weg|laan|straat|plein|gracht|\
                  vej|veien|vegen|gata|gatan|gade|katu|út|utca|ulica|ul|odos|οδός|\
                  suite|apt|apartment|unit|flat)")
                + r"(?:NONW|\z)"),
            Behind::NoWord,
        ),
        street_compound: rx(
            &(String::from("WORD")
                + &ci("(?:straße|strasse|gasse|weg|vej|veien|vegen|gata|gatan|gade|katu|laan|straat|plein)")
                + r"(?:NONW|\z)"),
        ),
        ip_words: Pat::new(
            &(ci("(?:ip|ips|ipv4|address|addr|host|server|dns|gateway|client|connectWORD*|ping|resolver|nameserver|subnet|route|proxy|port)")
                + r"(?:NONW|\z)"),
            Behind::NoWord,
        ),
        ip_word_any: rx(&(ci("ip") + "|地址")),
        oid_word: Pat::new(&(ci("oids?") + r"(?:NONW|\z)"), Behind::NoWord),
        oid_common: rx(&ci("commonname")),
        list_number: rx(r"\A\d+\.?\d*\z"),
        decade_range: rx(r"\A(?:19|20)\d\d ?[-–] ?(?:19|20)\d[xX?]\z"),
        standard_name: Pat::new(&(ci("iso") + r"[_\-]\n?\z"), Behind::NoWord),
        release_date: rx(r"\A[ \t]*(?:[-–—:,]|\(|[-–] \()[ \t]*(?:19|20)\d\d-\d\d-\d\d(?:NONW|\z)"),
        version_date: rx(r"\Av?\d+(?:\.\d+)+[ \t]*(?:[-–—:,]|\(|[-–] \()[ \t]*(?:19|20)\d\d-\d\d(?:-\d\d)?\)?\z"),
        dotted_version: rx(r"\Av?\d+(?:\.\d+)+\z"),
        underline: rx(r"\A[=\-~^*#+]{3,}[ \t]*\z"),
        element_args: rx(r"<[A-Za-z][\p{L}\p{N}_\-]*(?:[ \t]+-?\d+)*[ \t]+\n?\z"),
        signed_pair: rx(r"\A\d{1,4}[ \t]+-\d{1,4}\z"),
        number_row: rx(r"\A[ \t]*\d+(?:[ \t]+\d+)+[ \t]*\z"),
        number_value: rx(r"\A\d+(?:[ \t]+\d+)+\z"),
        unit_number: rx(r"\A\d{1,6}(?:,? \d{1,6})?\z"),
        netmask: Pat::new(r"255\.(?:255|0)\.\d{1,3}\.\d{1,3}(?:NONW|\z)", Behind::NoWord),
        netmask_word: Pat::new(&(ci("netmask") + r"(?:NONW|\z)"), Behind::NoWord),
        numbers_like: Pat::new(
            &(ci("(?:numbers|values|inputs|integers) (?:like|such as|e\\.g\\.,?)") + r"SPACE+\n?\z"),
            Behind::NoWord,
        ),
        year_edition: rx(r"\A(?:19|20)\d\d (?:R|SP)\d\z"),
        standard_edition: rx(r"\A\d{1,3}(?:\.\d{1,4})+-(?:19|20)\d\d\z"),
        cidr: rx(r"\A\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\z"),
        file_extension: rx(r"\A\.[a-z][a-z0-9]{0,4}(?:\.[a-z][a-z0-9]{0,4})*(?:NONW|\z)"),
        version_list: rx(r"\A\d{1,3}\.\d{1,3}(?:/\d{1,3}\.\d{1,3})+\z"),
        prefix_length: rx(r"\A/(?P<v>[0-9]{1,2})(?:[^0-9]|\z)"),
        bullet_line: rx(r"\A[ \t]*[-*+\x{2022}][ \t]+[^\s\x1c-\x1f]"),
        last_token: rx(r"[^\s\x1c-\x1f]*\z"),
        protocol_after: rx(
            &(String::from(r"\A(?:[\x22'`][ \t]+(?:WORD|-)+[ \t]+|[\x22'`)]?[ \t]+)(?:protocol[ \t]+)?")
                + &ci("(?:extensions?|methods?|algorithms?|ciphers?|kex|key exchange|key types?|hybrid)")
                + r"(?:NONW|\z)"),
        ),
        protocol_before: Pat::new(
            &(ci("(?:extensions?|methods?|algorithms?|ciphers?|kex)") + r"[ \t]+(?:WORD+[ \t]+){0,2}[(\x22'`]{1,2}\n?\z"),
            Behind::NoWord,
        ),
    })
}

/// A document as `not_a_fact` reads it: its UTF-8 and, unless it is ASCII, where every 64th code
/// point starts, so a code point offset finds its byte in a few steps.
pub struct NumeralText {
    text: String,
    marks: Option<Vec<usize>>,
    chars: usize,
    flags: Flags,
}

/// What a whole document holds that a rule needs on a value's line: without it, the rule need not
/// look at the line (which may be long).
#[derive(Clone, Copy)]
pub struct Flags {
    /// "urgency=": a Debian changelog header can be on a line
    urgency: bool,
    /// ">>>" or "...": a doctest prompt can be on a line
    prompt: bool,
}

impl Flags {
    pub fn of(text: &str) -> Flags {
        let f = memchr::memmem::find(text.as_bytes(), b"urgency=").is_some();
        let p = memchr::memmem::find(text.as_bytes(), b">>>").is_some() || memchr::memmem::find(text.as_bytes(), b"...").is_some();
        Flags { urgency: f, prompt: p }
    }
}

const MARK: usize = 64;

impl NumeralText {
    pub fn new(text: String) -> NumeralText {
        if text.is_ascii() {
            let chars = text.len();
            let flags = Flags::of(&text);
            return NumeralText { text, marks: None, chars, flags };
        }
        let mut marks = Vec::with_capacity(text.len() / MARK + 1);
        let mut chars = 0;
        for (i, _) in text.char_indices() {
            if chars % MARK == 0 {
                marks.push(i);
            }
            chars += 1;
        }
        let flags = Flags::of(&text);
        NumeralText { text, marks: Some(marks), chars, flags }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte of code point `c` (None past the end).
    pub fn byte(&self, c: usize) -> Option<usize> {
        if c > self.chars {
            return None;
        }
        let Some(marks) = &self.marks else { return Some(c) };
        if c == self.chars {
            return Some(self.text.len());
        }
        Some(fwd(&self.text, marks[c / MARK], c % MARK))
    }

    /// `numerals.not_a_fact(text, start, end, kind)` of code point offsets.
    pub fn not_a_fact(&self, start: usize, end: usize, kind: &str) -> Verdict {
        match (self.byte(start), self.byte(end)) {
            (Some(s), Some(e)) if s < e => not_a_fact_in(&self.text, self.flags, s, e, kind),
            _ => Defer,
        }
    }
}

const STRUCTURAL: &[&str] = &["email_address", "uuid", "hex_digest", "secret", "crypto_address", "mac_address"];

fn last_char(s: &str) -> Option<char> {
    s.chars().next_back()
}

fn first_char(s: &str) -> Option<char> {
    s.chars().next()
}

/// The last `n` characters of `s` (`s[-n:]`).
fn tail(s: &str, n: usize) -> &str {
    &s[back(s, s.len(), n)..]
}

/// The first `n` characters of `s` (`s[:n]`).
fn head(s: &str, n: usize) -> &str {
    &s[..fwd(s, 0, n)]
}

/// `s[i:j]` of characters.
fn chars_slice(s: &str, i: usize, j: usize) -> &str {
    let a = fwd(s, 0, i);
    let b = fwd(s, a, j.saturating_sub(i));
    &s[a..b]
}

fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// `_spaced_letter`: a letter of a script that writes spaces between words.
fn spaced_letter(c: Option<char>) -> bool {
    c.is_some_and(|c| is_alpha(c) && c < '\u{2e80}')
}

/// `numerals.not_a_fact` of byte offsets (`s < e`, on character boundaries).
pub fn not_a_fact(text: &str, s: usize, e: usize, kind: &str) -> Verdict {
    not_a_fact_in(text, Flags::of(text), s, e, kind)
}

fn not_a_fact_in(text: &str, flags: Flags, s: usize, e: usize, kind: &str) -> Verdict {
    let p = fact_pats();
    if STRUCTURAL.contains(&kind) {
        if kind == "email_address" {
            let rest = &text[e..];
            let mut it = rest.chars();
            if it.next() == Some('/') && it.next().is_some_and(is_alnum) {
                let window = head(rest, 80);
                let first = window.split(is_space).find(|w| !w.is_empty()).unwrap_or("");
                if !first.contains('@') {
                    return Reason("url");
                }
            }
            return email_reason(p, text, s, e);
        }
        return Fact;
    }
    let value = &text[s..e];
    let before = &text[back(text, s, 40)..s];
    let after = &text[e..fwd(text, e, 16)];
    if kind == "ip_address" {
        return ip_reason(p, text, flags, s, e, value, before, after);
    }
    let (v0, vl) = (first_char(value).unwrap_or(' '), last_char(value).unwrap_or(' '));
    if ",;:-./".contains(vl) || ",;:-./".contains(v0) || value.contains('(') != value.contains(')') {
        return Reason("cut");
    }
    let b1 = last_char(before);
    let b2 = before[..before.len() - b1.map_or(0, char::len_utf8)].chars().next_back();
    if b1 == Some('/') && b2.is_some_and(is_alnum) {
        return Reason("cut");
    }
    if b1 == Some('%') {
        return Reason("cut"); // digits a URL escape begins: "%22" + "4817768"
    }
    let mut ait = after.chars();
    let (a1, a2, a3) = (ait.next(), ait.next(), ait.next());
    let after_1_3 = chars_slice(after, 1, 3);
    if a1 == Some('-') && is_alnum(vl) && (all_alpha(after_1_3) && is_lower_str(after_1_3) || p.dash_caps.is_match(after)) {
        return Reason("cut");
    }
    if text.as_bytes().get(e) == Some(&b' ') && p.obfuscated_at.is_match(&text[e..]) {
        return Reason("cut");
    }
    if value.contains(", ") && (p.two_values.is_match(value) || p.year_comma.is_match(value)) {
        return Reason("cut");
    }
    if a1 == Some('/') && a2.is_some_and(is_alnum) || a1 == Some('-') && a2 == Some('g') && a3.is_some_and(is_alnum) {
        return Reason("cut");
    }
    if matches!(b1, Some('-') | Some('\u{2212}'))
        && (b2.is_none() || matches!(b2, Some(' ' | '(' | '=' | '\t' | '\n' | '[' | ',')))
    {
        return Reason("quantity");
    }
    if value.contains('/') && p.cidr.is_match(value) {
        return Reason("network"); // an address block read as another kind: "192.168.0.0/24"
    }
    if is_digit(vl) && a1.is_some_and(|c| c.is_ascii_alphabetic()) {
        return Reason("cut"); // "5-10000pt", "340383" of "340383f5f49f8"
    }
    if is_digit(vl) && a1 == Some('.') && p.file_extension.is_match(after) {
        return Reason("name"); // a file name: "12345678901.gz"
    }
    if spaced_letter(Some(vl)) && (spaced_letter(a1) || a1 == Some('.') && a2.is_some_and(is_alpha))
        || spaced_letter(Some(v0)) && spaced_letter(b1)
    {
        return Reason("cut");
    }
    if b1 == Some('#') && matches!(value.len(), 3 | 6 | 8) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Reason("code constant");
    }
    if b1 == Some('~') {
        return Reason("version");
    }
    if !value.chars().any(is_digit) {
        return Fact;
    }
    let groups: Vec<&str> = value.split(|c: char| ",;-\u{2013}/".contains(c) || is_space(c)).filter(|g| !g.is_empty()).collect();
    let nchars = |g: &str| g.chars().count();
    if kind != "date_of_birth" {
        let years: &[&str] = if groups.len() > 1 && all_alpha(groups[groups.len() - 1]) && nchars(groups[groups.len() - 1]) <= 2 {
            &groups[..groups.len() - 1]
        } else {
            &groups
        };
        if !years.is_empty()
            && years.iter().enumerate().all(|(i, g)| is_year(p, g) || (nchars(g) <= 2 && all_digits(g) && i > 0))
            && is_year(p, years[0])
        {
            return Reason("year list");
        }
        if p.decade_range.is_match(value) {
            return Reason("year list"); // "2010-202x": a range whose end year has a placeholder digit
        }
        if value.contains(' ') && p.year_edition.is_match(value) {
            return Reason("version"); // "Server 2012 R2", "2016 SP1"
        }
        match date_digits(value) {
            None => return Defer,
            Some(true) => return Reason("date"),
            Some(false) => {}
        }
        if value.contains([' ', '/']) && p.day_year.is_match(value) || value.contains(['Q', 'H']) && p.quarter.is_match(value) {
            return Reason("date");
        }
    }
    if value.contains(['+', '-']) && p.zone.is_match(value) || (b1 == Some(':') && b2.is_some_and(is_digit)) || (a1 == Some(':') && a2.is_some_and(is_digit)) {
        return Reason("timestamp");
    }
    if value.starts_with("0x") || value.starts_with("0X") {
        return Reason("code constant");
    }
    if value.contains("..") || after.starts_with("..") || after.starts_with('…') || before.ends_with("..") || before.ends_with('…') {
        return Reason("code table");
    }
    if p.standard_name.is_found(tail(before, 5)) {
        return Reason("standard number"); // "iso_8859-13.7", "iso-8859-1"
    }
    if value.contains('-') && p.standard_edition.is_match(value) {
        return Reason("standard number"); // "34.10-2012": a standard's number and its edition's year
    }
    if p.version_date.is_match(value)
        || p.dotted_version.is_match(value)
            && (p.release_date.is_match(&text[e..]) || heading(p, text, s) || list_heading(p, text, s, e))
    {
        return Reason("version"); // a release heading: "3.36.0 - 2020-03-08", "2.50.5" underlined
    }
    if p.element_args.is_match(before) || p.signed_pair.is_match(value) {
        return Reason("code table"); // "<anchor 350 -200>", "350 -200"
    }
    if number_rows(p, text, s, value) {
        return Reason("code table");
    }
    let cue14 = tail(before, 14);
    // a cue word that also names an identifier format, followed by that format's shape
    let cue = rstrip(rstrip(before).trim_end_matches(['-', '\u{2013}', ':', '.', '/']));
    let named = cue.ends_with("RFC") && !is_digit(v0) || cue.ends_with("EC") && p.ec_number.is_match(value);
    if !named && p.standard_cue.is_found(cue14) || v0.is_ascii_uppercase() && p.standard_value.is_match(value) {
        return Reason("standard number");
    }
    if value.contains('-') && p.paragraph.is_match(value) && (p.standard_cue.is_found(cue14) || p.cfr_through.is_match(before)) {
        return Reason("standard number");
    }
    if flags.urgency && in_header_version(p, text, s, e) {
        return Reason("version");
    }
    if value.contains('~') || value.contains('+') && p.plus_version.is_match(value) || matches!(a1, Some('~' | '+')) && a2.is_some_and(is_alnum) {
        return Reason("version");
    }
    if value.contains('.') && p.version_value.is_match(value) && p.version_cue.is_found(tail(before, 24)) {
        return Reason("version");
    }
    if value.contains('/') && p.version_list.is_match(value) {
        return Reason("version"); // versions joined by slashes: "2.32/2.33/2.34"
    }
    if (5..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) && value.parse::<u128>().is_ok_and(power_of_two) {
        return Reason("code constant"); // 2^n or 2^n - 1: "4294967295", "65536"
    }
    if kind != "phone_number" && value.len() >= 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        if DIGITS_IN_ORDER.contains(value) || DIGITS_IN_REVERSE.contains(value) {
            return Reason("placeholder"); // the digits in order, up or down: "3456789012"
        }
        let zeros = value.len() - value.trim_end_matches('0').len();
        if zeros >= 5 && zeros < value.len() {
            return Reason("quantity"); // a round number: "1500000000"
        }
    }
    if value.contains('.') && p.dotted.is_match(value) && !value.split('.').all(|g| nchars(g) == 2) && !value.split('.').skip(1).all(|g| nchars(g) == 3) {
        return Reason("version");
    }
    if kind == "generic_id" && value.contains('-') && p.two_lower.is_match(value) {
        return Reason("name");
    }
    if value.contains('.') && p.decimals.is_match(value) || a1 == Some('*') || b1 == Some('*') {
        return Reason("quantity");
    }
    if value.chars().count() >= 7 && value.bytes().all(|b| matches!(b, b'0' | b'1' | b' ')) {
        return Reason("code constant");
    }
    if b1 == Some('[') && a1 == Some(']') && value.contains('-') {
        return Reason("code table");
    }
    if p.zip.is_match(value) && p.state.is_found(tail(before, 16)) {
        return Reason("postal code");
    }
    if p.zip4.is_match(value) {
        return Reason("postal code");
    }
    if table(p, value, before, after) {
        return Reason("code table");
    }
    let b28 = tail(before, 28);
    if p.doc_placeholder.is_found(b28) || flags.prompt && in_doctest(p, text, s) || p.numbers_like.is_found(b28) {
        return Reason("placeholder");
    }
    if fraction(p, value, after) {
        return Reason("quantity");
    }
    if house_number(p, value, before, &text[e..fwd(text, e, 60)]) {
        return Reason("address");
    }
    if number_pair(value) {
        return Reason("cut"); // two numbers and a comma are two values: "randrange(1000, 99999)"
    }
    Fact
}

/// `[0-9]+, +[0-9]+`: two numbers and a comma, read as one value.
fn number_pair(value: &str) -> bool {
    let Some((a, b)) = value.split_once(',') else { return false };
    let b = b.trim_start_matches(' ');
    b.len() < value.len() - a.len() - 1
        && !a.is_empty()
        && !b.is_empty()
        && a.bytes().all(|c| c.is_ascii_digit())
        && b.bytes().all(|c| c.is_ascii_digit())
}

/// `_power_of_two`: 2^n or 2^n - 1.
fn power_of_two(n: u128) -> bool {
    n & n.wrapping_sub(1) == 0 || n & (n + 1) == 0
}

/// `_list_heading`: the value alone on its line, over a line that starts a list.
fn list_heading(p: &FactPats, text: &str, s: usize, e: usize) -> bool {
    let (lo, hi) = line_of(text, s);
    if text[lo..hi].trim_matches(is_space) != &text[s..e] || hi >= text.len() {
        return false;
    }
    let (nlo, nhi) = line_of(text, hi + 1);
    p.bullet_line.is_match(&text[nlo..nhi])
}

/// `_email_reason`: the user part of a URL ("url"), or a protocol's name written like an address ("name").
fn email_reason(p: &FactPats, text: &str, s: usize, e: usize) -> Verdict {
    let left = &text[back(text, s, 200)..s];
    let token = p.last_token.find(left).map_or("", |m| m.as_str());
    if let Some(i) = token.rfind("://") {
        if !token[i + 3..].contains('/') {
            return Reason("url");
        }
    }
    if p.protocol_after.is_match(&text[e..fwd(text, e, 40)]) || p.protocol_before.is_found(&text[back(text, s, 48)..s]) {
        return Reason("name");
    }
    Fact
}

/// `_YEAR.fullmatch`.
fn is_year(p: &FactPats, g: &str) -> bool {
    (g.starts_with("19") || g.starts_with("20")) && p.year.is_match(g)
}

/// `_date_digits`; None where Python's `int()` would refuse a digit (a superscript).
fn date_digits(value: &str) -> Option<bool> {
    let cs: Vec<char> = value.chars().collect();
    if !all_digits(value) || !matches!(cs.len(), 6 | 8 | 12 | 14) {
        return Some(false);
    }
    if !cs.iter().all(|&c| is_decimal(c)) {
        return None;
    }
    let int = |a: usize, b: usize| py_int(&cs[a..b].iter().collect::<String>()).unwrap_or(u64::MAX);
    let n = cs.len();
    if n == 6 {
        return Some((1970..=2039).contains(&int(0, 4)) && (1..=12).contains(&int(4, 6)));
    }
    let (y, m, d) = (int(0, 4), int(4, 6), int(6, 8));
    if !((1970..=2039).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)) {
        if n == 8 {
            let (d, m, y) = (int(0, 2), int(2, 4), int(4, 8));
            return Some((1900..=2039).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
        }
        return Some(false);
    }
    if n >= 12 && !(int(8, 10) < 24 && int(10, 12) < 60) {
        return Some(false);
    }
    Some(true)
}

/// `_in_header_version`: inside the version of a Debian changelog header.
fn in_header_version(p: &FactPats, text: &str, s: usize, e: usize) -> bool {
    let (lo, hi) = line_of(text, s);
    let line = &text[lo..hi];
    if (line.len() > 200 && line.chars().take(201).count() > 200) || !line.contains("urgency=") {
        return false;
    }
    let Some(c) = p.header.captures(&text[lo..]) else { return false };
    let v = c.name("v").expect("group v");
    lo + v.start() - 1 <= s && e <= lo + v.end() + 1
}

/// `_heading`: the value's line is underlined ("2.50.5" over "======").
fn heading(p: &FactPats, text: &str, s: usize) -> bool {
    let (lo, hi) = line_of(text, s);
    let line = &text[lo..hi];
    if (line.len() > 80 && line.chars().take(81).count() > 80) || hi >= text.len() {
        return false;
    }
    let (nlo, nhi) = line_of(text, hi + 1);
    nhi > nlo && p.underline.is_match(&text[nlo..nhi])
}

/// Python's `str.split()` count.
fn n_words(s: &str) -> usize {
    s.split(is_space).filter(|w| !w.is_empty()).count()
}

/// `_number_rows`: a row of a table of numbers, or some numbers of a longer row.
fn number_rows(p: &FactPats, text: &str, s: usize, value: &str) -> bool {
    if !p.number_value.is_match(value) {
        return false;
    }
    let (lo, hi) = line_of(text, s);
    if !p.number_row.is_match(&text[lo..hi]) {
        return false;
    }
    let n = n_words(&text[lo..hi]);
    if n > n_words(value) {
        return true;
    }
    if value.split(is_space).filter(|w| !w.is_empty()).map(|g| g.chars().count()).max().unwrap_or(0) > 4 {
        return false;
    }
    let mut rows = 1;
    for up in [true, false] {
        let (mut a, mut b) = (lo, hi);
        for _ in 0..2 {
            if up {
                if a == 0 {
                    break;
                }
                (a, b) = line_of(text, a - 1);
            } else {
                if b >= text.len() {
                    break;
                }
                (a, b) = line_of(text, b + 1);
            }
            if !p.number_row.is_match(&text[a..b]) || n_words(&text[a..b]) != n {
                break;
            }
            rows += 1;
        }
    }
    rows >= 3
}

/// `IPv4Address.is_private` (Python 3.11's networks).
fn private_ipv4(o: [u32; 4]) -> bool {
    let ip = (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3];
    const NETS: &[(u32, u32)] = &[
        (0x0000_0000, 8), (0x0A00_0000, 8), (0x7F00_0000, 8), (0xA9FE_0000, 16), (0xAC10_0000, 12),
        (0xC000_0000, 29), (0xC000_00AA, 31), (0xC000_0200, 24), (0xC0A8_0000, 16), (0xC612_0000, 15),
        (0xC633_6400, 24), (0xCB00_7100, 24), (0xF000_0000, 4), (0xFFFF_FFFF, 32),
    ];
    NETS.iter().any(|&(net, len)| (ip >> (32 - len)) == (net >> (32 - len)))
}

/// `_in_doctest`: on a doctest's prompt line or among the output lines after it.
fn in_doctest(p: &FactPats, text: &str, s: usize) -> bool {
    let b = text.as_bytes();
    let mut lo = memchr::memrchr(b'\n', &b[..s]).map_or(0, |i| i + 1);
    for _ in 0..12 {
        let hi = memchr::memchr(b'\n', &b[lo..]).map_or(b.len(), |i| lo + i);
        let line = &text[lo..hi];
        if line.trim_matches(is_space).is_empty() {
            return false;
        }
        if p.doctest_prompt.is_match(line) {
            return true;
        }
        if lo == 0 {
            return false;
        }
        lo = memchr::memrchr(b'\n', &b[..lo - 1]).map_or(0, |i| i + 1);
    }
    false
}

/// Decimal digits (any script) as ASCII, for `float()`.
fn ascii_number(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii() { c } else { py_int(&c.to_string()).map_or(c, |d| char::from(b'0' + d as u8)) })
        .collect()
}

/// `_fraction`: a ratio followed by its own quotient.
fn fraction(p: &FactPats, value: &str, after: &str) -> bool {
    if !value.contains('/') {
        return false;
    }
    let Some(m) = p.fraction.captures(value) else { return false };
    let (Some(num), Some(den)) = (py_int(&m["p"]), py_int(&m["q"])) else { return false };
    if den == 0 {
        return false;
    }
    let padded = format!("{after}        ");
    let Some(q) = p.stated.captures(&padded) else { return false };
    let Ok(stated) = ascii_number(&q["v"]).parse::<f64>() else { return false };
    let actual = num as f64 / den as f64;
    (stated - actual).abs() <= f64::max(0.01, 0.01 * actual.abs())
}

/// `_house_number`: digits before a street name or after a unit word.
fn house_number(p: &FactPats, value: &str, before: &str, after: &str) -> bool {
    if p.unit_before.is_found(tail(before, 12)) && p.unit_number.is_match(value) {
        return true; // "Suite 118", "P.O. Box 94079, 1090"
    }
    if !p.house.is_match(value) {
        return false;
    }
    let line = after.split('\n').next().unwrap_or("");
    let words: Vec<&str> = line.split(is_space).filter(|w| !w.is_empty()).take(5).collect();
    if words.is_empty() || !first_char(words[0]).is_some_and(is_alpha) {
        return false;
    }
    let joined = words.join(" ");
    p.street_word.is_found(&joined) || p.street_compound.is_match(&joined)
}

/// `_table`: a value of a list of small numbers.
fn table(p: &FactPats, value: &str, before: &str, after: &str) -> bool {
    if value.contains(',') {
        let mut items: Vec<&str> = Vec::new();
        let mut rest = value;
        loop {
            match rest.find(',') {
                Some(i) => {
                    items.push(&rest[..i]);
                    rest = lstrip(&rest[i + 1..]);
                }
                None => {
                    items.push(rest);
                    break;
                }
            }
        }
        items.retain(|g| !g.is_empty());
        if items.len() >= 2 && items.iter().all(|g| all_digits(g) && g.chars().count() <= 4) {
            return true;
        }
        if items.len() >= 3 && items.iter().all(|g| all_digits(g)) {
            return true;
        }
        if items.len() >= 2 && items.iter().all(|g| p.list_number.is_match(g)) && items.iter().any(|g| g.contains('.')) {
            return true;
        }
    }
    let b = rstrip(before);
    let a = lstrip(after);
    (b.ends_with('[') || b.ends_with('(') || b.ends_with(','))
        && matches!(first_char(a), Some(',' | ']' | ')'))
        && value.chars().count() <= 4
}

/// `ipaddress.IPv4Address` of a string: the octets, or None where it raises.
fn ipv4(value: &str) -> Option<[u32; 4]> {
    let mut out = [0u32; 4];
    let mut n = 0;
    for o in value.split('.') {
        if n == 4 || o.is_empty() || !o.bytes().all(|b| b.is_ascii_digit()) || o.len() > 3 || (o != "0" && o.starts_with('0')) {
            return None;
        }
        let v: u32 = o.parse().ok()?;
        if v > 255 {
            return None;
        }
        out[n] = v;
        n += 1;
    }
    (n == 4).then_some(out)
}

const CONSTANT_IPS: &[&str] = &["255.255.255.255", "255.255.255.0", "255.255.0.0", "255.0.0.0", "0.0.0.0"];

/// `_ip_reason` for IPv4 (IPv6 values go to the Python rules).
#[allow(clippy::too_many_arguments)]
fn ip_reason(p: &FactPats, text: &str, flags: Flags, s: usize, e: usize, value: &str, before: &str, after: &str) -> Verdict {
    if value.contains(':') {
        return Defer;
    }
    let Some(octets) = ipv4(value) else { return Fact };
    if CONSTANT_IPS.contains(&value) || octets[0] == 127 || octets == [0, 0, 0, 0] || value.starts_with("255.255.") {
        return Reason("constant");
    }
    let (b, a) = (last_char(before), first_char(after));
    if b.is_some_and(|b| b.is_ascii_alphanumeric()) || matches!(b, Some(':' | '/' | '.' | '@'))
        || a.is_some_and(|a| a.is_ascii_alphabetic()) || a == Some(':')
    {
        return Reason("cut");
    }
    if let Some(c) = p.prefix_length.captures(after) {
        let bits: u32 = c["v"].parse().unwrap_or(99);
        let host = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3];
        if bits <= 32 && (u64::from(host) & ((1u64 << (32 - bits)) - 1)) == 0 {
            return Reason("network"); // a block, not a host: "192.168.0.0/24" (its host bits are zero)
        }
    }
    let parts: Vec<&str> = value.split('.').collect();
    if parts[0] == "0" {
        return Reason("version");
    }
    let mut ait = after.chars();
    let (a1, a2) = (ait.next(), ait.next());
    if a1 == Some('-') && a2.is_some_and(is_digit) || matches!(a1, Some('~' | '+')) {
        return Reason("version");
    }
    if flags.urgency && in_header_version(p, text, s, e) || p.version_cue.is_found(tail(before, 24)) {
        return Reason("version");
    }
    let (lo, hi) = line_of(text, s);
    let line = &text[lo..hi];
    if p.release_date.is_match(&text[e..])
        || (heading(p, text, s) || list_heading(p, text, s, e)) && !(p.ip_words.is_found(line) || p.ip_word_any.is_match(line))
    {
        return Reason("version"); // "3.7.91.1 - 2013-03-05", "2.30.1.2" underlined
    }
    if private_ipv4(octets) && (p.netmask.is_found(line) || p.netmask_word.is_found(line)) {
        return Reason("placeholder"); // "inet 10.8.0.1 netmask 255.255.255.0"
    }
    let t = &octets[1..];
    let same = t.iter().all(|&o| o == t[0]) && t[0] <= 9;
    let sequential = octets.windows(2).all(|w| w[1] == w[0] + 1);
    if same || sequential {
        return Reason("placeholder");
    }
    if parts.iter().all(|o| o.len() == 1) {
        let around = format!("{} {}", tail(before, 40), after);
        if !(p.ip_words.is_found(&around) || p.ip_word_any.is_match(&around)) {
            return Reason("version");
        }
    }
    let b24 = tail(before, 24);
    if p.standard_cue.is_found(tail(before, 14)) || p.oid_word.is_found(b24) || p.oid_common.is_match(b24) {
        return Reason("standard number");
    }
    Fact
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
    fn patterns_compile() {
        let _ = ref_pats();
        let _ = fact_pats();
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

#[cfg(test)]
mod timing {
    use super::*;

    /// `FACTSEP_NUMERALS_TEXT=file cargo test --release timing -- --ignored --nocapture`: each
    /// references pattern's time over documents separated by NUL.
    #[test]
    #[ignore]
    fn pattern_times() {
        let Ok(path) = std::env::var("FACTSEP_NUMERALS_TEXT") else { return };
        let all = std::fs::read_to_string(path).unwrap();
        let docs: Vec<&str> = all.split('\0').collect();
        let p = ref_pats();
        let mut pats: Vec<(&str, &Pat)> = vec![
            ("cve", &p.cve), ("advisory", &p.advisory), ("hash_ref", &p.hash_ref), ("pr", &p.pr),
            ("bug_word", &p.bug_word), ("bug_url", &p.bug_url), ("handle", &p.handle), ("bug_line", &p.bug_line),
        ];
        let names = ["commit_word", "commit_url", "gbp_line", "log_line", "git_describe", "git_version"];
        for (i, c) in p.commits.iter().enumerate() {
            pats.push((names[i], c));
        }
        for (name, pat) in pats {
            let t = std::time::Instant::now();
            let mut n = 0;
            for d in &docs {
                pat.each(d, |_| n += 1);
            }
            eprintln!("{name:<12} {:8.2} ms {n}", t.elapsed().as_secs_f64() * 1e3);
        }
        let t = std::time::Instant::now();
        let n: usize = docs.iter().map(|d| references(d).len()).sum();
        eprintln!("references   {:8.2} ms {n}", t.elapsed().as_secs_f64() * 1e3);
    }
}

#[cfg(test)]
mod timing2 {
    use super::*;

    #[test]
    #[ignore]
    fn find_vs_captures() {
        let Ok(path) = std::env::var("FACTSEP_NUMERALS_TEXT") else { return };
        let all = std::fs::read_to_string(path).unwrap();
        let docs: Vec<&str> = all.split('\0').collect();
        let p = ref_pats();
        for (name, re) in [("log_line", &p.commits[3].re), ("commit_word", &p.commits[0].re), ("bug_word", &p.bug_word.re)] {
            let t = std::time::Instant::now();
            let n: usize = docs.iter().map(|d| re.find_iter(d).count()).sum();
            let a = t.elapsed().as_secs_f64() * 1e3;
            let t = std::time::Instant::now();
            let m: usize = docs.iter().map(|d| re.captures_iter(d).count()).sum();
            let b = t.elapsed().as_secs_f64() * 1e3;
            let t = std::time::Instant::now();
            let k: usize = docs.iter().filter(|d| d.is_ascii()).map(|d| re.find_iter(d).count()).sum();
            let c = t.elapsed().as_secs_f64() * 1e3;
            eprintln!("{name} find {a:.2} ms ({n}) captures {b:.2} ms ({m}) ascii docs find {c:.2} ({k}) of {}", docs.iter().filter(|d| d.is_ascii()).count());
        }
    }
}
