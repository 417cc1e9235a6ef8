//! Context words of every kind, found by one Aho-Corasick automaton over a candidate's window.
//!
//! `factsep.detection.context.ContextReader` reads a window of text around each candidate: a
//! prefilter ("could a word of this list start here?") and then the window's spaCy tokens and rule
//! lemmas. This automaton answers the prefilter for every word list at once, and says which runs
//! of non-space text of the window can hold a word at all, so only those are tokenized. It is
//! exact for ASCII windows (a `None` sends any other window down the Python path):
//!
//! - *prefilter*: a word (ASCII case ignored) starting at the window's start or after a character
//!   that is not `[A-Za-z_]` (a non-word character or a digit), as the Python reader's regex;
//! - *relevant runs*: a token's rule lemma is a prefix of its lower-case text, or ends in `y` where
//!   the text ends in `ies`, so a word can only be a lemma of a token of a run that contains the
//!   word (or its `ies` form); a phrase can only match where each of its pieces occurs somewhere.
//!
//! The words and their pieces come from Python (the kinds' declared words), numbered there.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What one window holds: the words that pass the prefilter, the runs to tokenize (start, end in
/// the window), and whether a phrase of several pieces could be in it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WindowHits {
    pub words: Vec<u32>,
    pub runs: Vec<(u32, u32)>,
    pub phrase: bool,
}

/// A group is a word (one piece) or a phrase (several); each piece lists its alternative patterns.
pub struct ContextWords {
    ac: AhoCorasick,
    n_patterns: usize,
    /// pattern -> words whose prefilter pattern it is
    prefilter: Vec<Vec<u32>>,
    /// pattern -> (group, piece) it is an alternative of
    member: Vec<Vec<(u32, u32)>>,
    /// group -> pieces -> patterns
    groups: Vec<Vec<Vec<u32>>>,
}

#[derive(Debug)]
pub struct BuildError(pub String);

/// The separator the Python reader puts between the text left and right of the value.
pub const SEAM: &[u8] = b" \x00 ";

impl ContextWords {
    pub fn new(
        patterns: &[String],
        prefilter: Vec<Vec<u32>>,
        groups: Vec<Vec<Vec<u32>>>,
    ) -> Result<Self, BuildError> {
        let n = patterns.len();
        if prefilter.len() != n {
            return Err(BuildError(format!("{} patterns but {} prefilter lists", n, prefilter.len())));
        }
        if patterns.iter().any(|p| p.is_empty()) {
            return Err(BuildError("an empty context pattern matches everywhere".into()));
        }
        let mut member = vec![Vec::new(); n];
        for (g, pieces) in groups.iter().enumerate() {
            if pieces.is_empty() {
                return Err(BuildError(format!("group {g} has no pieces")));
            }
            for (k, alts) in pieces.iter().enumerate() {
                if alts.is_empty() {
                    return Err(BuildError(format!("piece {k} of group {g} has no pattern")));
                }
                for &p in alts {
                    let slot = member
                        .get_mut(p as usize)
                        .ok_or_else(|| BuildError(format!("group {g} names pattern {p} of {n}")))?;
                    slot.push((g as u32, k as u32));
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map_err(|e| BuildError(format!("context automaton: {e}")))?;
        Ok(ContextWords { ac, n_patterns: n, prefilter, member, groups })
    }

    /// The hits of the window `left + " \0 " + right`, or `None` when it is not ASCII.
    pub fn window(&self, left: &[u8], right: &[u8]) -> Option<WindowHits> {
        if !left.is_ascii() || !right.is_ascii() {
            return None;
        }
        let mut buf = Vec::with_capacity(left.len() + SEAM.len() + right.len());
        buf.extend_from_slice(left);
        buf.extend_from_slice(SEAM);
        buf.extend_from_slice(right);
        Some(self.scan(&buf))
    }

    fn scan(&self, buf: &[u8]) -> WindowHits {
        let mut hits = WindowHits::default();
        // occurrences (pattern, start); a window is short, so a vector scan beats a map
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut seen = vec![false; self.n_patterns];
        for m in self.ac.find_overlapping_iter(buf) {
            let p = m.pattern().as_usize();
            let s = m.start();
            found.push((p as u32, s as u32));
            seen[p] = true;
            let valid = s == 0 || !matches!(buf[s - 1], b'A'..=b'Z' | b'a'..=b'z' | b'_');
            if valid {
                for &w in &self.prefilter[p] {
                    if !hits.words.contains(&w) {
                        hits.words.push(w);
                    }
                }
            }
        }
        if found.is_empty() {
            return hits;
        }
        // groups whose every piece occurs: their patterns' occurrences make a run relevant
        let mut relevant = vec![false; self.n_patterns];
        let mut checked: Vec<u32> = Vec::new();
        for (p, _) in &found {
            for &(g, _) in &self.member[*p as usize] {
                if checked.contains(&g) {
                    continue;
                }
                checked.push(g);
                let pieces = &self.groups[g as usize];
                if pieces.iter().all(|alts| alts.iter().any(|&a| seen[a as usize])) {
                    if pieces.len() > 1 {
                        hits.phrase = true;
                    }
                    for alts in pieces {
                        for &a in alts {
                            relevant[a as usize] = true;
                        }
                    }
                }
            }
        }
        let mut starts: Vec<u32> = found.iter().filter(|(p, _)| relevant[*p as usize]).map(|&(_, s)| s).collect();
        if starts.is_empty() {
            return hits;
        }
        starts.sort_unstable();
        // runs of non-space text (Python's \S+ on ASCII; the seam's NUL reads as a space)
        let mut next = starts.iter().peekable();
        let mut i = 0usize;
        while i < buf.len() && next.peek().is_some() {
            if is_space(buf[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < buf.len() && !is_space(buf[i]) {
                i += 1;
            }
            let mut inside = false;
            while let Some(&&s) = next.peek() {
                if (s as usize) < i {
                    inside |= s as usize >= start;
                    next.next();
                } else {
                    break;
                }
            }
            if inside {
                hits.runs.push((start as u32, i as u32));
            }
        }
        hits
    }
}

/// White space as Python's `str.isspace` has it on ASCII, and the seam's NUL (the reader turns it
/// into a space before tokenizing).
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | 0x00)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> ContextWords {
        let patterns: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        let prefilter = (0..list.len() as u32).map(|i| vec![i]).collect();
        let groups = (0..list.len() as u32).map(|i| vec![vec![i]]).collect();
        ContextWords::new(&patterns, prefilter, groups).unwrap()
    }

    #[test]
    fn prefilter_needs_a_start_after_a_non_letter() {
        let w = words(&["tel", "phone"]);
        let h = w.window(b"call Tel: and iphone", b"x").unwrap();
        assert_eq!(h.words, vec![0]);
        let h = w.window(b"9phone", b"").unwrap();
        assert_eq!(h.words, vec![1]);
        let h = w.window(b"_phone", b"").unwrap();
        assert!(h.words.is_empty());
        // the right side starts after the seam's space
        let h = w.window(b"x", b"phone").unwrap();
        assert_eq!(h.words, vec![1]);
    }

    #[test]
    fn relevant_runs_are_the_runs_holding_a_word() {
        let w = words(&["tel"]);
        let h = w.window(b"a b (tel: c", b"d").unwrap();
        assert_eq!(h.runs, vec![(4, 9)]);
        assert!(!h.phrase);
    }

    #[test]
    fn phrase_needs_every_piece() {
        let patterns: Vec<String> = ["date", "of", "birth"].iter().map(|s| s.to_string()).collect();
        let w = ContextWords::new(&patterns, vec![vec![], vec![], vec![]], vec![vec![vec![0], vec![1], vec![2]]]).unwrap();
        let h = w.window(b"date of", b"x").unwrap();
        assert!(!h.phrase && h.runs.is_empty());
        let h = w.window(b"date of birth", b"").unwrap();
        assert!(h.phrase);
        assert_eq!(h.runs, vec![(0, 4), (5, 7), (8, 13)]);
    }

    #[test]
    fn non_ascii_goes_to_python() {
        let w = words(&["tel"]);
        assert!(w.window("téléphone".as_bytes(), b"").is_none());
    }
}
