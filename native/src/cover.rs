//! The candidate pass: the cover pattern over a batch of documents, leftmost-longest like RE2.
//!
//! `regex-automata`'s meta engine is leftmost-first, RE2 (`longest_match`) leftmost-longest. Both
//! agree on where the next match *starts* (the leftmost position any match starts at), so the meta
//! engine finds the start and an anchored lazy DFA built with `MatchKind::All` runs from it to the
//! last position a match ends at: the longest match. Both engines are linear in the text they read,
//! and the anchored DFA stops when no thread is alive.
//!
//! Documents are cut into pieces exactly as `factsep.detection.candidates._slices` cuts them
//! (about `slice` bytes, after a newline or a space) and each piece is scanned on its own, as the
//! Python pass does with its NUL-joined buffers; a long match is cut into windows of at most
//! `max_chars` code points like `_windows`. Offsets are code points, so they index a Python `str`.

use memchr::memrchr;
use rayon::prelude::*;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::{meta, util::syntax, Anchored, Input, MatchKind};

/// Why a pattern cannot be used, or a batch cannot be scanned.
#[derive(Debug)]
pub struct CoverError(pub String);

impl std::fmt::Display for CoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Candidates of a batch as parallel columns, in document order then offset order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    pub doc: Vec<i32>,
    pub start: Vec<i32>,
    pub end: Vec<i32>,
}

/// One task's search state: the meta engine's cache and the longest-match DFA's.
struct Caches {
    start: meta::Cache,
    longest: Cache,
}

type CacheMaker = Box<dyn Fn() -> Caches + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>;

/// The compiled cover pattern.
pub struct Cover {
    start: meta::Regex,
    longest: DFA,
    /// caches kept across tasks and batches (a fresh lazy DFA cache rebuilds its states), taken
    /// once a task rather than once a match (the regex's own pool locks for a thread it does not own)
    caches: Pool<Caches, CacheMaker>,
    slice: usize,
    max_chars: usize,
}

/// One piece of one document: (document index, byte offset in the document, bytes).
type Piece<'a> = (usize, usize, &'a [u8]);

/// Candidates of one piece, offsets in code points from the piece's start, and the piece's length
/// in code points (to place the next piece of the same document).
struct PieceFound {
    start: Vec<i32>,
    end: Vec<i32>,
    chars: usize,
}

fn syntax_config() -> syntax::Config {
    // Bytes, ASCII classes (\d, \b) like RE2; literal non-ASCII dashes still match their UTF-8.
    syntax::Config::new().unicode(false).utf8(false)
}

impl Cover {
    pub fn new(pattern: &str, slice: usize, max_chars: usize) -> Result<Self, CoverError> {
        if slice == 0 || max_chars == 0 {
            return Err(CoverError("slice and max_chars must be positive".into()));
        }
        let start = meta::Regex::builder()
            .syntax(syntax_config())
            .configure(meta::Config::new().utf8_empty(false).hybrid_cache_capacity(8 << 20))
            .build(pattern)
            .map_err(|e| CoverError(format!("cover pattern does not compile: {e}")))?;
        let longest = DFA::builder()
            .syntax(syntax_config())
            .thompson(thompson::Config::new().utf8(false))
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(8 << 20)
                    // never give up: a cleared cache costs time, not correctness, and stays linear
                    .minimum_cache_clear_count(None),
            )
            .build(pattern)
            .map_err(|e| CoverError(format!("cover pattern does not compile as a DFA: {e}")))?;
        let (re, dfa) = (start.clone(), longest.clone());
        let caches: Pool<Caches, CacheMaker> =
            Pool::new(Box::new(move || Caches { start: re.create_cache(), longest: dfa.create_cache() }));
        Ok(Cover { start, longest, caches, slice, max_chars })
    }

    /// All candidates of a batch; `docs` are UTF-8 (or surrogate-pass) bytes.
    pub fn scan(&self, docs: &[&[u8]]) -> Result<Found, CoverError> {
        let mut pieces: Vec<Piece> = Vec::new();
        for (doc, data) in docs.iter().enumerate() {
            for (offset, len) in slices(data, self.slice) {
                pieces.push((doc, offset, &data[offset..offset + len]));
            }
        }
        let found: Vec<PieceFound> = pieces
            .par_iter()
            .with_min_len(4)
            .map_init(|| self.caches.get(), |cache, piece| self.scan_piece(cache, piece.2))
            .collect();
        let total: usize = found.iter().map(|f| f.start.len()).sum();
        let mut out = Found {
            doc: Vec::with_capacity(total),
            start: Vec::with_capacity(total),
            end: Vec::with_capacity(total),
        };
        let mut doc_seen = usize::MAX;
        let mut base: usize = 0;
        for (piece, f) in pieces.iter().zip(found) {
            if piece.0 != doc_seen {
                doc_seen = piece.0;
                base = 0;
            }
            let doc = to_i32(piece.0)?;
            let shift = to_i32(base)?;
            to_i32(base + f.chars)?;
            out.doc.extend(std::iter::repeat_n(doc, f.start.len()));
            out.start.extend(f.start.iter().map(|s| s + shift));
            out.end.extend(f.end.iter().map(|e| e + shift));
            base += f.chars;
        }
        Ok(out)
    }

    fn scan_piece(&self, caches: &mut Caches, hay: &[u8]) -> PieceFound {
        let ascii = hay.is_ascii();
        let mut found = PieceFound { start: Vec::new(), end: Vec::new(), chars: 0 };
        // running byte -> code point position, for increasing offsets
        let (mut byte_pos, mut char_pos) = (0usize, 0usize);
        let mut to_char = |b: usize| -> usize {
            if ascii {
                return b;
            }
            char_pos += count_chars(&hay[byte_pos..b]);
            byte_pos = b;
            char_pos
        };
        let mut at = 0usize;
        while at < hay.len() {
            let Some(m) = self.start.search_with(&mut caches.start, &Input::new(hay).range(at..)) else { break };
            let b0 = m.start();
            let input = Input::new(hay).range(b0..).anchored(Anchored::Yes);
            // the meta match is a match from b0, so the anchored search finds one at least as long
            let b1 = match self.longest.try_search_fwd(&mut caches.longest, &input) {
                Ok(Some(half)) => half.offset().max(m.end()),
                _ => m.end(),
            };
            if b1 == b0 {
                at = b0 + 1; // an empty match (the cover has none): step over it
                continue;
            }
            let s = to_char(b0);
            let e = to_char(b1);
            if e - s > self.max_chars {
                windows(&hay[b0..b1], s, self.max_chars, &mut found);
            } else {
                found.start.push(s as i32);
                found.end.push(e as i32);
            }
            at = b1;
        }
        found.chars = if ascii { hay.len() } else { to_char(hay.len()) };
        found
    }
}

fn to_i32(v: usize) -> Result<i32, CoverError> {
    i32::try_from(v).map_err(|_| CoverError("a document or batch is larger than 2**31 code points".into()))
}

/// Code points in UTF-8 (or surrogate-pass) bytes: the bytes that are not continuation bytes.
pub fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// A document's bytes in pieces of about `size`, cut after a newline or else a space: `_slices`.
pub fn slices(data: &[u8], size: usize) -> Vec<(usize, usize)> {
    if data.len() <= size {
        return vec![(0, data.len())];
    }
    let mut out = Vec::with_capacity(data.len() / size + 1);
    let mut pos = 0;
    while pos < data.len() {
        let mut end = (pos + size).min(data.len());
        if end < data.len() {
            let lo = pos + size / 2;
            let window = &data[lo..end];
            let cut = memrchr(b'\n', window).or_else(|| memrchr(b' ', window));
            if let Some(c) = cut {
                end = lo + c + 1;
            }
        }
        out.push((pos, end - pos));
        pos = end;
    }
    out
}

fn is_break(b: u8) -> bool {
    b == b' ' || b == b',' || b == b'/'
}

/// A long match cut into windows of at most `size` code points at spaces, commas or slashes, the
/// separators between windows dropped: `_windows`. `first` is the match's code point offset.
fn windows(bytes: &[u8], first: usize, size: usize, out: &mut PieceFound) {
    // byte offset of each code point, and the end
    let mut bounds: Vec<usize> = Vec::with_capacity(bytes.len() + 1);
    if bytes.is_ascii() {
        bounds.extend(0..=bytes.len());
    } else {
        bounds.extend(bytes.iter().enumerate().filter(|(_, &b)| (b & 0xC0) != 0x80).map(|(i, _)| i));
        bounds.push(bytes.len());
    }
    let n = bounds.len() - 1;
    let lead = |k: usize| bytes[bounds[k]];
    let mut s = 0usize;
    while s < n {
        let mut e = (s + size).min(n);
        if e < n {
            if let Some(k) = (s + 1..e).rev().find(|&k| is_break(lead(k))) {
                e = k;
            }
        }
        out.start.push((first + s) as i32);
        out.end.push((first + e) as i32);
        s = e;
        while s < n && is_break(lead(s)) {
            s += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAT: &str = r"\d[0-9 ]*\d|[a-z]+@[a-z]+(?:\.[a-z]+)*";

    fn spans(cover: &Cover, text: &str) -> Vec<(i32, i32)> {
        let f = cover.scan(&[text.as_bytes()]).unwrap();
        f.start.into_iter().zip(f.end).collect()
    }

    #[test]
    fn longest_not_first() {
        // leftmost-first would stop "ab" at the first alternative
        let cover = Cover::new("a|ab|abc", 1024, 128).unwrap();
        assert_eq!(spans(&cover, "xabcx abx"), vec![(1, 4), (6, 8)]);
    }

    #[test]
    fn code_points_not_bytes() {
        let cover = Cover::new(PAT, 1024, 128).unwrap();
        assert_eq!(spans(&cover, "é 12 3 ü x@y.z"), vec![(2, 6), (9, 14)]);
    }

    #[test]
    fn windows_cut_at_spaces() {
        let cover = Cover::new(PAT, 1 << 20, 10).unwrap();
        assert_eq!(spans(&cover, "1234 5678 9012 3456"), vec![(0, 9), (10, 19)]);
    }

    #[test]
    fn slices_cut_after_newline() {
        let data = b"aaaa\nbbbb cccc dddd";
        assert_eq!(slices(data, 8), vec![(0, 5), (5, 5), (10, 5), (15, 4)]);
    }

    #[test]
    fn hostile_digits_are_one_run() {
        let cover = Cover::new(PAT, 16_384, 128).unwrap();
        let text = "7".repeat(1 << 20);
        let f = cover.scan(&[text.as_bytes()]).unwrap();
        assert_eq!(*f.end.last().unwrap() as usize, text.len());
    }
}
