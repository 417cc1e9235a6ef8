//! Word signals of a value where it stands: its label ("Phone: ...", a kind's word just before
//! it) and a denial in its sentence ("... is not a phone number"), as the detector's `_label` and
//! `ContextReader.denies` read them (factsep/detection/detector.py, context.py).
//!
//! Exact on ASCII text only: a value whose label window or sentence holds a character that is not
//! ASCII gets `Defer`, and the Python path (the reference) reads it. On ASCII text the Python
//! patterns' case folding, `\w`, `\s` and `\b` are ASCII's, and the patterns reduce to:
//!
//! - *label*: the prefilter `_may_end_label`, then a word of the list (ASCII case ignored) not
//!   after a word character, followed by nothing but the label tail (`\.?(?: ?(?:no|nr|number)\.?)?
//!   \s*[:#]?\s*`, compiled here from the Python source) up to the value;
//! - *denial*: the value's sentence (72 characters each side, cut at a sentence end), the ends of
//!   the denial cues in it (the Python `_DENIAL` source, compiled here), and a word of the list
//!   (ASCII case ignored, optionally `s`/`es`) between word boundaries of `[A-Za-z0-9_]` within 32
//!   characters of a cue's end.
//!
//! Word lists whose non-ASCII words have an ASCII case form (the Kelvin sign, dotless i, long s:
//! Python's case folding matches them in ASCII text) are refused by the Python side, which then
//! keeps those lists on its own path.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use crate::numerals::NumeralText;

/// A signal's answer: a value, or "ask the Python path".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Value(i8),
    Defer,
}

#[derive(Debug)]
pub struct BuildError(pub String);

/// How far before a value its label is read (detector `_LABEL_CHARS`).
pub const LABEL_CHARS: usize = 24;
/// How far around a value its sentence is read, and how far a denied word may follow a cue
/// (context `_SENTENCE_CHARS`, `_DENIAL_REACH`).
pub const SENTENCE_CHARS: usize = 72;
pub const DENIAL_REACH: usize = 32;

/// A word list: its ASCII words in one case-insensitive automaton (all matches, overlapping).
struct Words {
    ac: Option<AhoCorasick>,
}

impl Words {
    fn new(words: &[String]) -> Result<Words, BuildError> {
        if words.iter().any(|w| w.is_empty() || !w.is_ascii()) {
            return Err(BuildError("a native word list holds ASCII words, none empty".into()));
        }
        if words.is_empty() {
            return Ok(Words { ac: None });
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words)
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(Words { ac: Some(ac) })
    }
}

pub struct Signals {
    cues: Regex,
    tail: Regex,
    denial: Vec<Words>,
    label: Vec<Words>,
}

/// Python's `\w` on an ASCII byte.
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Python's `str.isspace()` on an ASCII byte (`\x1c`-`\x1f` too).
fn space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

impl Signals {
    /// `cues`: the denial cue pattern's Python source (matched case-insensitively); `tail`: what
    /// may follow a label word up to the value (a Python source ending in `\s*$`; `\s` is read as
    /// Python's); `denial` and `label`: the word lists, ASCII words only.
    pub fn new(cues: &str, tail: &str, denial: &[Vec<String>], label: &[Vec<String>]) -> Result<Signals, BuildError> {
        let cues = Regex::new(&format!("(?i:{cues})")).map_err(|e| BuildError(format!("denial cues: {e}")))?;
        let Some(body) = tail.strip_suffix("$") else {
            return Err(BuildError("the label tail must end in $".into()));
        };
        // Python's \s on ASCII text holds \x1c-\x1f, the regex crate's does not
        let body = body.replace(r"\s", r"[\s\x1c-\x1f]");
        let tail = Regex::new(&format!(r"\A(?i:{body})\z")).map_err(|e| BuildError(format!("label tail: {e}")))?;
        let denial = denial.iter().map(|w| Words::new(w)).collect::<Result<Vec<_>, _>>()?;
        let label = label.iter().map(|w| Words::new(w)).collect::<Result<Vec<_>, _>>()?;
        Ok(Signals { cues, tail, denial, label })
    }

    /// `Detector._label(text, start, phrases)` with the lists `positive` and `negative` (None: the
    /// kind has no such pattern): +1, -1 or 0, code point offsets.
    pub fn label(&self, doc: &NumeralText, start: usize, positive: Option<usize>, negative: Option<usize>) -> Answer {
        if start == 0 {
            return Answer::Value(0);
        }
        let lo = start.saturating_sub(LABEL_CHARS);
        // the window, and the character before it (the look-behind reads it)
        let (Some(b0), Some(b1)) = (doc.byte(lo.saturating_sub(1)), doc.byte(start)) else { return Answer::Defer };
        let text = doc.text().as_bytes();
        if !text[b0..b1].is_ascii() {
            return Answer::Defer;
        }
        // ASCII from lo - 1 on: code points are bytes there
        let lo_b = b1 - (start - lo);
        if !may_end_label(&text[lo_b..b1]) {
            return Answer::Value(0);
        }
        for (list, value) in [(negative, -1), (positive, 1)] {
            let Some(list) = list else { continue };
            let Some(words) = self.label.get(list) else { return Answer::Defer };
            if self.labels(words, text, lo_b, b1) {
                return Answer::Value(value);
            }
        }
        Answer::Value(0)
    }

    /// Whether `(?<!\w)(?:words)TAIL` matches in `text[lo..end]` (look-behind reading before lo).
    fn labels(&self, words: &Words, text: &[u8], lo: usize, end: usize) -> bool {
        let Some(ac) = &words.ac else { return false };
        for m in ac.find_overlapping_iter(&text[lo..end]) {
            let (s, e) = (lo + m.start(), lo + m.end());
            if s > 0 && word_byte(text[s - 1]) {
                continue;
            }
            // ASCII: the tail reads bytes as characters
            let rest = std::str::from_utf8(&text[e..end]).unwrap_or("\u{0}\u{0}");
            if self.tail.is_match(rest) {
                return true;
            }
        }
        false
    }

    /// `ContextReader.denies(text, start, end, pattern of list)`: 1 or 0, code point offsets.
    pub fn denies(&self, doc: &NumeralText, start: usize, end: usize, list: usize) -> Answer {
        let Some(words) = self.denial.get(list) else { return Answer::Defer };
        let Some(ac) = &words.ac else { return Answer::Value(0) };
        if start > end {
            return Answer::Defer;
        }
        let lo = start.saturating_sub(SENTENCE_CHARS);
        let text = doc.text().as_bytes();
        let (Some(b_lo), Some(b_s), Some(b_e)) = (doc.byte(lo), doc.byte(start), doc.byte(end)) else {
            return Answer::Defer;
        };
        // the sentence reaches 72 characters past the value, or to the text's end
        let b_hi = doc.byte(end + SENTENCE_CHARS).unwrap_or(text.len());
        let (left, right) = (&text[b_lo..b_s], &text[b_e..b_hi]);
        if !left.is_ascii() || !right.is_ascii() {
            return Answer::Defer;
        }
        let cut = last_sentence_end(left);
        let stop = first_sentence_end(right).unwrap_or(right.len());
        let mut sentence = Vec::with_capacity(left.len() - cut + 1 + stop);
        sentence.extend_from_slice(&left[cut..]);
        sentence.push(b' ');
        sentence.extend_from_slice(&right[..stop]);
        let Ok(sentence) = std::str::from_utf8(&sentence) else { return Answer::Defer };
        let bytes = sentence.as_bytes();
        for cue in self.cues.find_iter(sentence) {
            let c = cue.end();
            let reach = (c + DENIAL_REACH).min(bytes.len());
            if denied_within(ac, bytes, c, reach) {
                return Answer::Value(1);
            }
        }
        Answer::Value(0)
    }
}

/// `(?<![A-Za-z0-9_])(?:words)(?:e?s)?(?![A-Za-z0-9_])` searched in `s[lo..hi]` (the look-behind
/// reads before lo; the end of the search is an end of the text for the look-ahead).
fn denied_within(ac: &AhoCorasick, s: &[u8], lo: usize, hi: usize) -> bool {
    if lo >= hi {
        return false;
    }
    for m in ac.find_overlapping_iter(&s[lo..hi]) {
        let (a, e) = (lo + m.start(), lo + m.end());
        if a > 0 && word_byte(s[a - 1]) {
            continue;
        }
        let ends_at = |q: usize| q == hi || !word_byte(s[q]);
        let has = |q: usize, c: u8| q < hi && s[q].eq_ignore_ascii_case(&c);
        if ends_at(e) || (has(e, b's') && ends_at(e + 1)) || (has(e, b'e') && has(e + 1, b's') && ends_at(e + 2)) {
            return true;
        }
    }
    false
}

/// A sentence end of `_SENTENCE_END` on ASCII text: `[.!?]\s` (two bytes) or `[\n;]` (one), at `i`.
fn sentence_end_at(s: &[u8], i: usize) -> Option<usize> {
    match s[i] {
        b'.' | b'!' | b'?' if i + 1 < s.len() && space_byte(s[i + 1]) => Some(2),
        b'\n' | b';' => Some(1),
        _ => None,
    }
}

/// The end of the last of `_SENTENCE_END.finditer(s)`, 0 when none.
fn last_sentence_end(s: &[u8]) -> usize {
    let (mut i, mut last) = (0, 0);
    while i < s.len() {
        match sentence_end_at(s, i) {
            Some(n) => {
                i += n;
                last = i;
            }
            None => i += 1,
        }
    }
    last
}

/// The start of `_SENTENCE_END.search(s)`.
fn first_sentence_end(s: &[u8]) -> Option<usize> {
    (0..s.len()).find(|&i| sentence_end_at(s, i).is_some())
}

/// `detector._may_end_label(text, lo, start)` on the ASCII window `w = text[lo:start]`: a letter
/// or a period, then spaces with at most one ':' or '#'.
fn may_end_label(w: &[u8]) -> bool {
    let mut i = w.len();
    while i > 0 && space_byte(w[i - 1]) {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let c = w[i - 1];
    if c.is_ascii_alphabetic() || c == b'.' {
        return true;
    }
    if c != b':' && c != b'#' {
        return false;
    }
    i -= 1;
    while i > 0 && space_byte(w[i - 1]) {
        i -= 1;
    }
    let c = if i > 0 { w[i - 1] } else { b' ' };
    c.is_ascii_alphabetic() || c == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUES: &str = r"(?:\b(?:is|are|was|were|s)(?: not|n't)|\binvalid\b|不是)";
    const TAIL: &str = r"\.?(?: ?(?:no|nr|number)\.?)?\s*[:#]?\s*$";

    fn signals() -> Signals {
        let s = |v: &[&str]| v.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        Signals::new(CUES, TAIL, &[s(&["phone", "e-mail"])], &[s(&["tel", "phone"]), s(&["fax"])]).unwrap()
    }

    fn doc(t: &str) -> NumeralText {
        NumeralText::new(t.to_string())
    }

    #[test]
    fn labels() {
        let s = signals();
        let t = "Phone no.: 555 1234";
        assert_eq!(s.label(&doc(t), 11, Some(0), Some(1)), Answer::Value(1));
        let t = "Fax # 555 1234";
        assert_eq!(s.label(&doc(t), 6, Some(0), Some(1)), Answer::Value(-1));
        let t = "xtel: 555";
        assert_eq!(s.label(&doc(t), 6, Some(0), Some(1)), Answer::Value(0));
        let t = "tel\x1c 555";
        assert_eq!(s.label(&doc(t), 5, Some(0), None), Answer::Value(1));
        let t = "télé, and then some words, tel: 555"; // é before the 24 characters read
        assert_eq!(s.label(&doc(t), 32, Some(0), None), Answer::Value(1));
        let t = "é tel: 555";
        assert_eq!(s.label(&doc(t), 7, Some(0), None), Answer::Defer);
    }

    #[test]
    fn denials() {
        let s = signals();
        let t = "This 555 1234 is not a phone number.";
        assert_eq!(s.denies(&doc(t), 5, 13, 0), Answer::Value(1));
        let t = "This 555 1234 is not a phonebook.";
        assert_eq!(s.denies(&doc(t), 5, 13, 0), Answer::Value(0));
        let t = "This 555 1234 is not a real. Phone";
        assert_eq!(s.denies(&doc(t), 5, 13, 0), Answer::Value(0));
        let t = "555 1234 isn't PHONES";
        assert_eq!(s.denies(&doc(t), 0, 8, 0), Answer::Value(1));
        let t = "555 1234 不是 phone";
        assert_eq!(s.denies(&doc(t), 0, 8, 0), Answer::Defer);
        assert_eq!(s.denies(&doc("x"), 0, 9, 0), Answer::Defer);
    }
}
