//! `factsep._native`: the candidate pass over a whole batch and the structural checks, with the GIL
//! released and the work spread over cores by rayon. Results cross into Python as buffers of
//! native-endian integers (`pyarrow.Array.from_buffers` wraps them), not as an object per value.
//! A panic inside the core comes back as a `RuntimeError`, never as a crashed interpreter.

pub mod checks;
pub mod context;
pub mod cover;
pub mod numerals;
pub mod phone;
pub mod pyunicode;
pub mod signals;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// A batch item held alive while its bytes are read without the GIL.
enum Held<'py> {
    Str(Bound<'py, PyString>),
    Bytes(Bound<'py, PyBytes>),
}

/// Holds each item of `texts` (str, or bytes already encoded), encoding a str with lone
/// surrogates the way the Python pass does (`surrogatepass`).
fn hold<'py>(texts: &Bound<'py, PyAny>) -> PyResult<Vec<Held<'py>>> {
    let mut out = Vec::new();
    for item in texts.try_iter()? {
        let item = item?;
        if let Ok(s) = item.cast::<PyString>() {
            if s.to_str().is_ok() {
                out.push(Held::Str(s.clone()));
            } else {
                let encoded = s.call_method1("encode", ("utf-8", "surrogatepass"))?;
                out.push(Held::Bytes(encoded.cast_into::<PyBytes>()?));
            }
        } else if let Ok(b) = item.cast::<PyBytes>() {
            out.push(Held::Bytes(b.clone()));
        } else {
            return Err(PyValueError::new_err(format!(
                "a batch holds str or bytes, not {}",
                item.get_type().name()?
            )));
        }
    }
    Ok(out)
}

fn bytes_of<'a>(held: &'a [Held<'_>]) -> PyResult<Vec<&'a [u8]>> {
    held.iter()
        .map(|h| match h {
            Held::Str(s) => Ok(s.to_str()?.as_bytes()),
            Held::Bytes(b) => Ok(b.as_bytes()),
        })
        .collect()
}

/// The pool of `threads` threads (0: one per core) of this process. Pools are keyed by process id
/// too: a child forked after a pool started inherits the pool without its threads, and work sent
/// to it would wait forever, so the child builds its own (rayon's global pool is never used).
fn pool(threads: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    type Pools = HashMap<(u32, usize), Arc<rayon::ThreadPool>>;
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
    let key = (std::process::id(), threads);
    let mut pools = POOLS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| PyRuntimeError::new_err("factsep._native: thread pool registry poisoned"))?;
    if let Some(p) = pools.get(&key) {
        return Ok(p.clone());
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("factsep-native-{i}"))
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start {threads} threads: {e}")))?;
    let p = Arc::new(p);
    // a parent's pools stay in the map (never dropped in a child: their threads are not there)
    pools.insert(key, p.clone());
    Ok(p)
}

/// Runs `work` without the GIL, on `threads` threads (0: one per core), turning a panic into a
/// `RuntimeError`.
fn run_detached<T: Send>(py: Python<'_>, threads: usize, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    let pool = pool(threads)?;
    let result = py.detach(|| catch_unwind(AssertUnwindSafe(|| pool.install(work))));
    result.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        PyRuntimeError::new_err(format!("factsep._native panicked (a bug, please report it): {what}"))
    })
}

/// Runs `work` with the GIL held (a single value: no thread hop), turning a panic into a
/// `RuntimeError`.
fn catch<T>(work: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|_| PyRuntimeError::new_err("factsep._native panicked (a bug, please report it)"))
}

fn i32_buffer<'py>(py: Python<'py>, values: &[i32]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, values.len() * 4, |buf| {
        for (chunk, v) in buf.chunks_exact_mut(4).zip(values) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        Ok(())
    })
}

/// (doc, start, end, count) as handed to Python.
type Columns<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>, usize);

/// The cover pattern compiled once; `scan` finds the candidates of a batch.
#[pyclass(frozen, module = "factsep._native")]
struct CoverScanner {
    cover: cover::Cover,
}

#[pymethods]
impl CoverScanner {
    #[new]
    #[pyo3(signature = (pattern, slice, max_chars))]
    fn new(pattern: &str, slice: usize, max_chars: usize) -> PyResult<Self> {
        let cover = cover::Cover::new(pattern, slice, max_chars).map_err(|e| PyValueError::new_err(e.0))?;
        Ok(CoverScanner { cover })
    }

    /// (doc, start, end, count): three buffers of `count` native int32, code point offsets.
    #[pyo3(signature = (texts, threads = 0))]
    fn scan<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        threads: usize,
    ) -> PyResult<Columns<'py>> {
        let held = hold(texts)?;
        let docs = bytes_of(&held)?;
        let found = run_detached(py, threads, || self.cover.scan(&docs))?.map_err(|e| PyValueError::new_err(e.0))?;
        let n = found.doc.len();
        Ok((i32_buffer(py, &found.doc)?, i32_buffer(py, &found.start)?, i32_buffer(py, &found.end)?, n))
    }
}

/// One signed byte a value: the verdict of check `name` (see `checks::Check::run`).
#[pyfunction]
#[pyo3(signature = (name, values, threads = 0))]
fn check<'py>(
    py: Python<'py>,
    name: &str,
    values: &Bound<'py, PyAny>,
    threads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let which = checks::Check::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown check {name:?}: use luhn, iban_mod97, isbn, issn, uuid_version, ip_version, hex, email, bitcoin, base58check or bech32"
        ))
    })?;
    let held = hold(values)?;
    let items = bytes_of(&held)?;
    let verdicts: Vec<i8> = run_detached(py, threads, || {
        use rayon::prelude::*;
        items
            .par_iter()
            .with_min_len(4096)
            .map(|b| std::str::from_utf8(b).map_or(0, |s| which.run(s)))
            .collect()
    })?;
    PyBytes::new_with(py, verdicts.len(), |buf| {
        for (o, v) in buf.iter_mut().zip(&verdicts) {
            *o = *v as u8;
        }
        Ok(())
    })
}

/// Panics inside the core on purpose, so a test can see the panic come back as a RuntimeError.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    run_detached(py, 0, || -> () { panic!("requested by _panic_for_test") })
}

/// (word ids past the prefilter, flat run offsets, a phrase possible), as handed to Python.
type WindowTuple = (Vec<u32>, Vec<u32>, bool);

/// The context words of every kind in one automaton (see `context.rs`).
#[pyclass(frozen, module = "factsep._native")]
struct ContextAutomaton {
    words: context::ContextWords,
}

#[pymethods]
impl ContextAutomaton {
    #[new]
    #[pyo3(signature = (patterns, prefilter, groups))]
    fn new(patterns: Vec<String>, prefilter: Vec<Vec<u32>>, groups: Vec<Vec<Vec<u32>>>) -> PyResult<Self> {
        let words = context::ContextWords::new(&patterns, prefilter, groups).map_err(|e| PyValueError::new_err(e.0))?;
        Ok(ContextAutomaton { words })
    }

    /// (word ids past the prefilter, flat run offsets, phrase possible) of the window
    /// `left + " \0 " + right`, or None when the window is not ASCII.
    /// A str that is no UTF-8 (a lone surrogate) is no ASCII either: None.
    fn window(&self, left: &Bound<'_, PyString>, right: &Bound<'_, PyString>) -> PyResult<Option<WindowTuple>> {
        let (Ok(left), Ok(right)) = (left.to_str(), right.to_str()) else { return Ok(None) };
        let hits = catch_unwind(AssertUnwindSafe(|| self.words.window(left.as_bytes(), right.as_bytes())))
            .map_err(|_| PyRuntimeError::new_err("factsep._native panicked in ContextAutomaton.window (a bug)"))?;
        Ok(hits.map(|h| (h.words, h.runs.iter().flat_map(|&(s, e)| [s, e]).collect(), h.phrase)))
    }
}

/// `factsep.detection.numerals.references` of one document: (start, end, code) a reference, code
/// point offsets, code an index of `REFERENCE_CODES`; None for a str that is no UTF-8 (a lone
/// surrogate), which the Python reference reads.
#[pyfunction]
fn numeral_references(text: &Bound<'_, PyString>) -> PyResult<Option<Vec<(usize, usize, u8)>>> {
    let Ok(text) = text.to_str() else { return Ok(None) };
    catch(|| numerals::references_chars(text)).map(Some)
}

/// A document as `numerals.not_a_fact` reads it (see `numerals::NumeralText`).
#[pyclass(frozen, module = "factsep._native")]
struct NumeralText {
    doc: numerals::NumeralText,
}

#[pymethods]
impl NumeralText {
    /// `not_a_fact(text, start, end, kind)` of this text, code point offsets: -1 no reason, -2 ask
    /// the Python rules, else an index of `NUMERAL_REASONS`.
    fn not_a_fact(&self, start: usize, end: usize, kind: &str) -> PyResult<i32> {
        let verdict = catch_unwind(AssertUnwindSafe(|| self.doc.not_a_fact(start, end, kind)))
            .map_err(|_| PyRuntimeError::new_err("factsep._native panicked in NumeralText.not_a_fact (a bug)"))?;
        Ok(match verdict {
            numerals::Verdict::Fact => -1,
            numerals::Verdict::Defer => -2,
            numerals::Verdict::Reason(r) => numerals::REASONS.iter().position(|x| *x == r).map_or(-2, |i| i as i32),
        })
    }
}

/// The text `not_a_fact` reads, or None for a str that is no UTF-8 (a lone surrogate).
#[pyfunction]
fn numeral_text(text: &Bound<'_, PyString>) -> PyResult<Option<NumeralText>> {
    let Ok(text) = text.to_str() else { return Ok(None) };
    catch(|| NumeralText { doc: numerals::NumeralText::new(text.to_owned()) }).map(Some)
}

/// A value's label and denial words where it stands (see `signals.rs`): the detector's `_label`
/// and `ContextReader.denies` on ASCII text, one call a value.
#[pyclass(frozen, module = "factsep._native")]
struct ValueSignals {
    signals: signals::Signals,
}

fn answer(a: signals::Answer, defer: i32) -> i32 {
    match a {
        signals::Answer::Value(v) => v as i32,
        signals::Answer::Defer => defer,
    }
}

#[pymethods]
impl ValueSignals {
    #[new]
    #[pyo3(signature = (cues, tail, denial, label))]
    fn new(cues: &str, tail: &str, denial: Vec<Vec<String>>, label: Vec<Vec<String>>) -> PyResult<Self> {
        let signals = signals::Signals::new(cues, tail, &denial, &label).map_err(|e| PyValueError::new_err(e.0))?;
        Ok(ValueSignals { signals })
    }

    /// `_label` of the value starting at `start`: 1, -1 or 0, -2 to ask the Python path; a list
    /// index below 0 is no list.
    fn label(&self, doc: PyRef<'_, NumeralText>, start: usize, positive: i64, negative: i64) -> PyResult<i32> {
        let pick = |i: i64| usize::try_from(i).ok();
        catch(|| answer(self.signals.label(&doc.doc, start, pick(positive), pick(negative)), -2))
    }

    /// `ContextReader.denies` of the value `start..end` with word list `list`: 1 or 0, -1 to ask
    /// the Python path.
    fn denies(&self, doc: PyRef<'_, NumeralText>, start: usize, end: usize, list: usize) -> PyResult<i32> {
        catch(|| answer(self.signals.denies(&doc.doc, start, end, list), -1))
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CoverScanner>()?;
    m.add_class::<ContextAutomaton>()?;
    m.add_class::<phone::py::PhoneTables>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(numeral_references, m)?)?;
    m.add_function(wrap_pyfunction!(numeral_text, m)?)?;
    m.add_class::<NumeralText>()?;
    m.add_class::<ValueSignals>()?;
    m.add("NUMERAL_REASONS", numerals::REASONS.to_vec())?;
    m.add("NUMERALS_RULES", numerals::RULES)?;
    m.add("REFERENCE_CODES", numerals::REFERENCE_CODES.to_vec())?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
