//! Bounded random fuzzing of every entry point of the core: the cover pass, every check, the
//! context automaton and the numerals (references, not_a_fact) get arbitrary bytes and strings (random, and mutated from text dense in what
//! they read), and must return without a panic and with results inside their input. A seeded
//! generator, so a failure names the seed that reproduces it.
//!
//! `FACTSEP_FUZZ_SECONDS` bounds the time (default 5 s), `FACTSEP_FUZZ_SEED` picks the first seed,
//! `FACTSEP_COVER_PATTERN_FILE` gives the real cover pattern (`.ci/run` writes it from Python).

use std::time::{Duration, Instant};

use _native::checks::Check;
use _native::context::ContextWords;
use _native::cover::{count_chars, Cover};
use _native::numerals::{references_chars, NumeralText, Verdict, REASONS, REFERENCE_CODES};
use _native::signals::{Answer, Signals};

/// xorshift64*: small, seeded, good enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "0", "1", "9", "12", "555", "978-0-306-40615-7", "4111 1111 1111 1111", "@", ".", "-", "+", " ", "\n",
    "\t", ":", "/", "(", ")", "#", "$", "x", "X", "bc1", "BC1q", "1BvBM", "0x", "e-mail", "tel:", "phone",
    "phones", "companies", "date of birth", "isbn", "é", "中", "\u{2013}", "\u{1f600}", "\u{0}", "_", "'s",
    "ff", "::", "1.2.3.4", "GB82", "WEST", "qpzry9x8", "companies", "v-number",
];

/// Arbitrary bytes (not always UTF-8), or text made of the pieces the core turns on.
fn input(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(200);
    match rng.below(4) {
        0 => (0..n).map(|_| rng.next() as u8).collect(),
        1 => (0..n).map(|_| b"0123456789 -.@:/xX\n"[rng.below(19)]).collect(),
        _ => {
            let mut s = Vec::new();
            for _ in 0..n / 4 {
                s.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
                if rng.below(10) == 0 && !s.is_empty() {
                    let i = rng.below(s.len());
                    s[i] = rng.next() as u8; // a mutation, UTF-8 or not
                }
            }
            s
        }
    }
}

fn budget() -> Duration {
    let secs = std::env::var("FACTSEP_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(5.0);
    Duration::from_secs_f64(secs / 6.0) // six targets share the budget
}

fn seed() -> u64 {
    std::env::var("FACTSEP_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed)
}

/// Runs `case` on fresh seeds until the budget is spent; a panic names its seed.
fn fuzz(name: &str, mut case: impl FnMut(&mut Rng)) {
    let deadline = Instant::now() + budget();
    let mut s = seed();
    let mut runs = 0u64;
    while runs < 50 || Instant::now() < deadline {
        s = s.wrapping_add(1);
        let mut rng = Rng(s.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut rng)));
        assert!(outcome.is_ok(), "{name}: panic on seed {s} (FACTSEP_FUZZ_SEED={})", s - 1);
        runs += 1;
    }
    eprintln!("{name}: {runs} cases");
}

#[test]
fn fuzz_cover_pass() {
    let pattern = std::env::var("FACTSEP_COVER_PATTERN_FILE")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|p| p.trim_end_matches('\n').to_string())
        .unwrap_or_else(|| r"\d[\d\-. ]{3,40}\d|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}|\b[A-Z]{2}\d{2}[A-Z0-9]{8,30}\b".into());
    let cover = Cover::new(&pattern, 4096, 128).expect("the cover pattern compiles");
    fuzz("cover", |rng| {
        let docs: Vec<Vec<u8>> = (0..1 + rng.below(4)).map(|_| input(rng)).collect();
        let views: Vec<&[u8]> = docs.iter().map(|d| d.as_slice()).collect();
        match cover.scan(&views) {
            Ok(found) => {
                for i in 0..found.doc.len() {
                    let d = found.doc[i] as usize;
                    assert!(d < docs.len());
                    let chars = count_chars(&docs[d]) as i32;
                    assert!(0 <= found.start[i] && found.start[i] < found.end[i] && found.end[i] <= chars);
                }
            }
            Err(_) => assert!(views.iter().any(|d| std::str::from_utf8(d).is_err())),
        }
    });
}

#[test]
fn fuzz_checks() {
    let names = [
        "luhn", "iban_mod97", "isbn", "issn", "uuid_version", "ip_version", "hex", "email", "bitcoin",
        "base58check", "bech32",
    ];
    let checks: Vec<Check> = names.iter().map(|n| Check::parse(n).expect("a known check")).collect();
    fuzz("checks", |rng| {
        let raw = input(rng);
        let text = String::from_utf8_lossy(&raw);
        for c in &checks {
            let v = c.run(&text);
            assert!((-2..=16).contains(&v), "{c:?} gave {v}");
        }
    });
}

#[test]
fn fuzz_context_automaton() {
    let words: Vec<String> = ["phone", "tel:", "date of birth", "e-mail", "e", "-", "mail", "company", "companies", "$", "v"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let prefilter = (0..words.len() as u32).map(|i| vec![i]).collect();
    let groups = vec![vec![vec![0]], vec![vec![1]], vec![vec![2]], vec![vec![4], vec![5], vec![6]], vec![vec![7, 8]], vec![vec![9]], vec![vec![10]]];
    let automaton = ContextWords::new(&words, prefilter, groups).expect("the automaton builds");
    fuzz("context", |rng| {
        let (left, right) = (input(rng), input(rng));
        if let Some(hits) = automaton.window(&left, &right) {
            let len = (left.len() + 3 + right.len()) as u32;
            assert!(hits.words.iter().all(|&w| (w as usize) < words.len()));
            assert!(hits.runs.windows(2).all(|w| w[0].1 <= w[1].0));
            assert!(hits.runs.iter().all(|&(s, e)| s < e && e <= len));
        } else {
            assert!(!left.is_ascii() || !right.is_ascii());
        }
    });
}

const NUMERAL_PIECES: &[&str] = &[
    "CVE-2021-", "Closes: #", "#", "bug ", "PR c++/", "gh-", "/issues/", "handle: 10.1/", "commit ", "3d7a2d78",
    "  * [2322fe2] ", "\n  12345 fix\n", "-g", "+git20200101.", "version ", "RFC ", "\u{a7}", "pkg (1.2-1) unstable; urgency=low\n",
    ">>> ", "...", "zip ", "Apt. ", " Main Street", "is about ", "1/3", "0x", "192.168.1.1", "::1", "2013, 2014", "20200714",
    "\u{131}", "\u{130}", "\u{17f}", "\u{b2}", "\u{301}", "\u{663}", "\x1c", "\u{3000}", "colour",
];

/// Text dense in what the numerals read, or anything `input` gives.
fn numeral_text(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        return String::from_utf8_lossy(&input(rng)).into_owned();
    }
    let mut s = String::new();
    for _ in 0..rng.below(40) {
        if rng.below(3) == 0 {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        } else {
            s.push_str(NUMERAL_PIECES[rng.below(NUMERAL_PIECES.len())]);
        }
        for _ in 0..rng.below(3) {
            s.push(char::from(b'0' + rng.below(10) as u8));
        }
    }
    s
}

#[test]
fn fuzz_numeral_references() {
    fuzz("numeral references", |rng| {
        let text = numeral_text(rng);
        let chars = text.chars().count();
        let mut last = 0;
        for (s, e, code) in references_chars(&text) {
            assert!(last <= s && s < e && e <= chars, "references overlap or leave the text");
            assert!((code as usize) < REFERENCE_CODES.len());
            last = e;
        }
    });
}

#[test]
fn fuzz_not_a_fact() {
    let kinds = ["generic_id", "phone_number", "date_of_birth", "ip_address", "email_address", "iban", "uuid"];
    fuzz("not_a_fact", |rng| {
        let text = numeral_text(rng);
        let chars = text.chars().count();
        let doc = NumeralText::new(text);
        for _ in 0..8 {
            let start = rng.below(chars + 2);
            let end = start + rng.below(20);
            match doc.not_a_fact(start, end, kinds[rng.below(kinds.len())]) {
                Verdict::Reason(r) => assert!(REASONS.contains(&r)),
                Verdict::Defer => {}
                Verdict::Fact => assert!(start < end && end <= chars),
            }
        }
    });
}

#[test]
fn fuzz_value_signals() {
    // the shapes of the Python sources the detector hands over (context._DENIAL, detector._LABEL_TAIL)
    let cues = r"(?:\b(?:is|are|was|were|s)(?: not|n't)|\bnot (?:an?|valid|real)\b|\binvalid\b|\bn[ãa]o (?:é|e)|不是|非)";
    let tail = r"\.?(?: ?(?:no|nr|number)\.?)?\s*[:#]?\s*$";
    let w = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let signals = Signals::new(cues, tail, &[w(&["phone", "e-mail", "isbn"]), w(&[])], &[w(&["tel", "phone"]), w(&["fax", "v"])])
        .expect("the signal patterns compile");
    fuzz("value signals", |rng| {
        let mut text = numeral_text(rng);
        for _ in 0..rng.below(6) {
            text.push_str(["is not a ", "phone", "Tel: ", ". ", "\n", "fax#", "isn't ", "\u{1c}", "é"][rng.below(9)]);
        }
        let doc = NumeralText::new(text);
        for _ in 0..8 {
            let start = rng.below(doc.text().len() + 2);
            let end = start + rng.below(20);
            let list = rng.below(3);
            match signals.denies(&doc, start, end, list) {
                Answer::Value(v) => assert!(v == 0 || v == 1),
                Answer::Defer => {}
            }
            let pick = |i: usize| if i < 2 { Some(i) } else { None };
            match signals.label(&doc, start, pick(rng.below(3)), pick(rng.below(3))) {
                Answer::Value(v) => assert!((-1..=1).contains(&v)),
                Answer::Defer => {}
            }
        }
    });
}
