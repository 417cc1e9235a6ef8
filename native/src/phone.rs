//! Phone numbers parsed and validated the way the phonenumbers package does it, from tables that
//! `scripts/gen_phone_tables.py` writes from the installed package's metadata
//! (`factsep/kinds/data/phone_tables.txt.gz`).
//!
//! Each step mirrors one function of `phonenumbers.phonenumberutil` (its name is in the doc
//! comment), so a verdict differs from the package's only where a step is missing; such input is
//! *deferred* (the caller asks phonenumbers) instead of guessed: any character outside printable
//! ASCII, a `;` (RFC 3966 parameters), a region not written in capitals, a pattern that does not
//! compile. `tests/test_native_phone.py` holds the verdicts to the package's.
//!
//! Patterns are compiled on first use (a region's patterns when a number of that region is read),
//! with regex-automata's meta engine: leftmost-first like Python's `re`, linear in the input.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

/// How a pattern is anchored when matched, as the Python call it stands for.
#[derive(Clone, Copy)]
enum Anchor {
    /// `re.fullmatch`
    Full,
    /// `re.match`
    Start,
    /// `re.search`
    Search,
}

/// A pattern compiled lazily, once per way it is anchored. `None` inside: it does not compile.
struct Pat {
    src: String,
    unicode: bool,
    full: OnceLock<Option<Regex>>,
    start: OnceLock<Option<Regex>>,
    search: OnceLock<Option<Regex>>,
}

/// Capture spans of a match, group 0 first (`None`: the group took no part).
type Groups = Vec<Option<(usize, usize)>>;

/// The pattern did not compile (the caller defers to phonenumbers).
#[derive(Debug)]
pub struct Uncompiled;

impl Pat {
    fn new(src: &str, unicode: bool) -> Pat {
        Pat { src: src.to_string(), unicode, full: OnceLock::new(), start: OnceLock::new(), search: OnceLock::new() }
    }

    fn regex(&self, anchor: Anchor) -> Result<&Regex, Uncompiled> {
        let (cell, wrapped) = match anchor {
            Anchor::Full => (&self.full, format!("^(?:{})$", self.src)),
            Anchor::Start => (&self.start, format!("^(?:{})", self.src)),
            Anchor::Search => (&self.search, self.src.clone()),
        };
        cell.get_or_init(|| {
            Regex::builder()
                .syntax(syntax::Config::new().unicode(self.unicode).utf8(true))
                .configure(Regex::config().nfa_size_limit(Some(64 << 20)).hybrid_cache_capacity(4 << 20))
                .build(&wrapped)
                .ok()
        })
        .as_ref()
        .ok_or(Uncompiled)
    }

    fn is_match(&self, anchor: Anchor, hay: &str) -> Result<bool, Uncompiled> {
        Ok(self.regex(anchor)?.is_match(Input::new(hay).anchored(Anchored::No)))
    }

    /// Capture spans of the first match (`None` for a group that took no part), or `None`.
    fn captures(&self, anchor: Anchor, hay: &str) -> Result<Option<Groups>, Uncompiled> {
        let re = self.regex(anchor)?;
        let mut caps = re.create_captures();
        re.captures(hay, &mut caps);
        if !caps.is_match() {
            return Ok(None);
        }
        Ok(Some((0..caps.group_len()).map(|i| caps.get_group(i).map(|s| (s.start, s.end))).collect()))
    }

    /// The number of capturing groups (`re.compile(p).groups`).
    fn groups(&self) -> Result<usize, Uncompiled> {
        Ok(self.regex(Anchor::Search)?.captures_len() - 1)
    }

    /// `re.sub(pattern, template, hay)`: every non-overlapping match replaced.
    fn replace_all(&self, hay: &str, template: &str) -> Result<String, Uncompiled> {
        let re = self.regex(Anchor::Search)?;
        let mut out = String::new();
        let mut last = 0;
        for caps in re.captures_iter(hay) {
            let Some(m) = caps.get_match() else { continue };
            out.push_str(&hay[last..m.start()]);
            let groups: Groups =
                (0..caps.group_len()).map(|i| caps.get_group(i).map(|s| (s.start, s.end))).collect();
            expand(template, hay, &groups, &mut out);
            last = m.end();
        }
        out.push_str(&hay[last..]);
        Ok(out)
    }
}

/// Expands a `${N}` template (`$$` a dollar) with the groups of a match; a group that took no
/// part is empty, as in Python's `re.sub`.
fn expand(template: &str, hay: &str, groups: &[Option<(usize, usize)>], out: &mut String) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(close) = rest.strip_prefix('{').and_then(|r| r.find('}').map(|c| (r, c))) {
            let (r, c) = close;
            if let Ok(n) = r[..c].parse::<usize>() {
                if let Some(Some((s, e))) = groups.get(n) {
                    out.push_str(&hay[*s..*e]);
                }
            }
            rest = &r[c + 1..];
        } else {
            out.push('$');
        }
    }
    out.push_str(rest);
}

/// `PhoneNumberDesc`: possible lengths and the national number pattern of one number type.
struct Desc {
    lengths: Vec<i32>,
    local: Vec<i32>,
    pattern: Option<Pat>,
}

/// `NumberFormat`, with the national template worked out by the generator.
struct Format {
    pattern: Pat,
    leading: Option<Pat>,
    national: String,
    international: String,
}

/// `PhoneMetadata` of a region or a non-geographic calling code.
struct Meta {
    country_code: u32,
    international_prefix: Option<Pat>,
    national_prefix_for_parsing: Option<Pat>,
    national_prefix_transform_rule: Option<String>,
    leading_digits: Option<Pat>,
    preferred_extn_prefix: Option<String>,
    same_mobile_and_fixed_line_pattern: bool,
    /// general_desc, then the types in `TYPES` order
    descs: Vec<Option<Desc>>,
    number_format: Vec<Format>,
    intl_number_format: Vec<Format>,
}

/// The description names, in the order `Meta::descs` holds them (as the generator writes them).
const TYPES: [&str; 11] = [
    "general", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager",
    "uan", "voicemail",
];
const GENERAL: usize = 0;
const FIXED_LINE: usize = 1;
const MOBILE: usize = 2;

/// `PhoneNumberType` values, as phonenumbers numbers them.
pub mod number_type {
    pub const FIXED_LINE: i8 = 0;
    pub const MOBILE: i8 = 1;
    pub const FIXED_LINE_OR_MOBILE: i8 = 2;
    pub const TOLL_FREE: i8 = 3;
    pub const PREMIUM_RATE: i8 = 4;
    pub const SHARED_COST: i8 = 5;
    pub const VOIP: i8 = 6;
    pub const PERSONAL_NUMBER: i8 = 7;
    pub const PAGER: i8 = 8;
    pub const UAN: i8 = 9;
    pub const VOICEMAIL: i8 = 10;
    pub const UNKNOWN: i8 = 99;
}

/// `ValidationResult`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_COUNTRY_CODE: usize = 3;
const MAX_INPUT_STRING_LENGTH: usize = 250;
const NON_GEO: &str = "001";

/// A number as `phonenumbers.parse` leaves it (the fields the checks read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub country_code: u32,
    /// `national_significant_number(num)`
    pub nsn: String,
    pub extension: String,
}

/// What reading one value gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Parsed(Parsed),
    /// `parse` raises `NumberParseException`
    NotANumber,
    /// outside what this module mirrors: ask phonenumbers
    Deferred,
}

/// Why the tables could not be read.
#[derive(Debug)]
pub struct TableError(pub String);

/// `NumberParseException` kinds that `parse` tells apart.
enum ParseError {
    InvalidCountryCode,
    Other,
    Deferred,
}

impl From<Uncompiled> for ParseError {
    fn from(_: Uncompiled) -> Self {
        ParseError::Deferred
    }
}

/// The phone tables: generic patterns, calling codes and per-region metadata.
pub struct Tables {
    pub version: String,
    valid_phone: Pat,
    extension: Pat,
    unwanted_end: Pat,
    second_number: Pat,
    valid_alpha: Pat,
    alpha: HashMap<u8, u8>,
    /// calling code -> regions, main first (`COUNTRY_CODE_TO_REGION_CODE`)
    regions_of_code: HashMap<u32, Vec<String>>,
    regions: HashMap<String, Meta>,
    non_geo: HashMap<u32, Meta>,
}

fn lengths(field: &str) -> Result<Vec<i32>, TableError> {
    if field == "-" {
        return Ok(Vec::new());
    }
    field.split(',').map(|v| v.parse().map_err(|_| TableError(format!("bad length list {field:?}")))).collect()
}

impl Tables {
    /// Reads the generator's text (the decompressed `phone_tables.txt.gz`).
    pub fn parse(text: &str) -> Result<Tables, TableError> {
        let err = |line: usize, what: &str| TableError(format!("phone tables line {}: {what}", line + 1));
        let mut version = None;
        let mut generic: HashMap<String, String> = HashMap::new();
        let mut alpha = HashMap::new();
        let mut regions_of_code = HashMap::new();
        let mut metas: Vec<(String, Meta)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            let meta = metas.last_mut().map(|(_, m)| m);
            match (f[0], meta) {
                ("phonenumbers", _) if f.len() == 2 => version = Some(f[1].to_string()),
                ("g", _) if f.len() == 3 => {
                    generic.insert(f[1].to_string(), f[2].to_string());
                }
                ("a", _) if f.len() == 3 && f[1].len() == 1 && f[2].len() == 1 => {
                    alpha.insert(f[1].as_bytes()[0], f[2].as_bytes()[0]);
                }
                ("c", _) if f.len() >= 3 => {
                    let code: u32 = f[1].parse().map_err(|_| err(n, "bad calling code"))?;
                    regions_of_code.insert(code, f[2..].iter().map(|s| s.to_string()).collect());
                }
                ("m", _) if f.len() == 3 => {
                    let country_code = f[2].parse().map_err(|_| err(n, "bad calling code"))?;
                    metas.push((
                        f[1].to_string(),
                        Meta {
                            country_code,
                            international_prefix: None,
                            national_prefix_for_parsing: None,
                            national_prefix_transform_rule: None,
                            leading_digits: None,
                            preferred_extn_prefix: None,
                            same_mobile_and_fixed_line_pattern: false,
                            descs: (0..TYPES.len()).map(|_| None).collect(),
                            number_format: Vec::new(),
                            intl_number_format: Vec::new(),
                        },
                    ));
                }
                ("ip", Some(m)) if f.len() == 2 => m.international_prefix = Some(Pat::new(f[1], false)),
                ("npp", Some(m)) if f.len() == 2 => m.national_prefix_for_parsing = Some(Pat::new(f[1], false)),
                ("npt", Some(m)) if f.len() == 2 => m.national_prefix_transform_rule = Some(f[1].to_string()),
                ("ld", Some(m)) if f.len() == 2 => m.leading_digits = Some(Pat::new(f[1], false)),
                ("ep", Some(m)) if f.len() == 2 => m.preferred_extn_prefix = Some(f[1].to_string()),
                ("same", Some(m)) if f.len() == 1 => m.same_mobile_and_fixed_line_pattern = true,
                ("d", Some(m)) if f.len() == 4 || f.len() == 5 => {
                    let i = TYPES.iter().position(|t| *t == f[1]).ok_or_else(|| err(n, "unknown number type"))?;
                    m.descs[i] = Some(Desc {
                        lengths: lengths(f[2])?,
                        local: lengths(f[3])?,
                        pattern: f.get(4).map(|p| Pat::new(p, false)),
                    });
                }
                ("f", Some(m)) if f.len() == 6 => {
                    let fmt = Format {
                        pattern: Pat::new(f[2], false),
                        leading: (f[3] != "-").then(|| Pat::new(f[3], false)),
                        national: f[4].to_string(),
                        international: f[5].to_string(),
                    };
                    match f[1] {
                        "N" => m.number_format.push(fmt),
                        "I" => m.intl_number_format.push(fmt),
                        _ => return Err(err(n, "a format list is N or I")),
                    }
                }
                _ => return Err(err(n, "unknown record")),
            }
        }
        let mut pat = |name: &str| {
            generic
                .remove(name)
                .map(|p| Pat::new(&p, true))
                .ok_or_else(|| TableError(format!("phone tables: generic pattern {name} missing")))
        };
        let (valid_phone, extension, unwanted_end, second_number, valid_alpha) =
            (pat("valid_phone")?, pat("extension")?, pat("unwanted_end")?, pat("second_number")?, pat("valid_alpha")?);
        let mut regions = HashMap::new();
        let mut non_geo = HashMap::new();
        for (id, m) in metas {
            if m.descs[GENERAL].as_ref().is_none_or(|d| d.lengths.is_empty()) {
                return Err(TableError(format!("phone tables: {id} has no general possible lengths")));
            }
            if id == NON_GEO {
                non_geo.insert(m.country_code, m);
            } else {
                regions.insert(id, m);
            }
        }
        Ok(Tables {
            version: version.ok_or_else(|| TableError("phone tables: no phonenumbers version line".into()))?,
            valid_phone,
            extension,
            unwanted_end,
            second_number,
            valid_alpha,
            alpha,
            regions_of_code,
            regions,
            non_geo,
        })
    }

    /// Compiles every pattern (a test that the tables hold nothing the engine rejects).
    pub fn uncompiled(&self) -> Vec<String> {
        let mut bad = Vec::new();
        let mut try_pat = |p: &Pat, a: Anchor| {
            if p.regex(a).is_err() {
                bad.push(p.src.clone());
            }
        };
        for p in [&self.valid_phone, &self.extension, &self.unwanted_end, &self.second_number, &self.valid_alpha] {
            try_pat(p, Anchor::Search);
            try_pat(p, Anchor::Full);
        }
        for m in self.regions.values().chain(self.non_geo.values()) {
            for p in [&m.international_prefix, &m.national_prefix_for_parsing, &m.leading_digits].into_iter().flatten() {
                try_pat(p, Anchor::Start);
            }
            for d in m.descs.iter().flatten() {
                if let Some(p) = &d.pattern {
                    try_pat(p, Anchor::Full);
                }
            }
            for f in m.number_format.iter().chain(&m.intl_number_format) {
                try_pat(&f.pattern, Anchor::Full);
                try_pat(&f.pattern, Anchor::Search);
                if let Some(p) = &f.leading {
                    try_pat(p, Anchor::Start);
                }
            }
        }
        bad
    }

    /// The regions phonenumbers supports (`SUPPORTED_REGIONS`).
    pub fn region_ids(&self) -> Vec<&str> {
        self.regions.keys().map(|s| s.as_str()).collect()
    }

    /// `region_code_for_country_code`
    fn main_region(&self, code: u32) -> &str {
        self.regions_of_code.get(&code).map_or("ZZ", |r| r[0].as_str())
    }

    /// `PhoneMetadata.metadata_for_region_or_calling_code`
    fn meta_for(&self, code: u32, region: &str) -> Option<&Meta> {
        if region == NON_GEO {
            self.non_geo.get(&code)
        } else {
            self.regions.get(region)
        }
    }

    /// `_normalize`: keypad letters to digits when there are 3 letters or more, else the digits only.
    fn normalize(&self, number: &str) -> Result<String, Uncompiled> {
        if self.valid_alpha.is_match(Anchor::Full, number)? {
            Ok(number
                .bytes()
                .filter_map(|b| if b.is_ascii_digit() { Some(b) } else { self.alpha.get(&b.to_ascii_uppercase()).copied() })
                .map(char::from)
                .collect())
        } else {
            Ok(number.chars().filter(|c| c.is_ascii_digit()).collect())
        }
    }

    /// `_is_viable_phone_number`
    fn viable(&self, number: &str) -> Result<bool, Uncompiled> {
        Ok(number.len() >= MIN_LENGTH_FOR_NSN && self.valid_phone.is_match(Anchor::Full, number)?)
    }

    /// `_extract_possible_number` (ASCII: a number starts at a `+` or a digit)
    fn extract_possible_number<'a>(&self, number: &'a str) -> Result<&'a str, Uncompiled> {
        let Some(start) = number.find(|c: char| c == '+' || c.is_ascii_digit()) else { return Ok("") };
        let mut number = &number[start..];
        if let Some(m) = self.unwanted_end.captures(Anchor::Search, number)? {
            number = &number[..m[0].map_or(number.len(), |s| s.0)];
        }
        if let Some(m) = self.second_number.captures(Anchor::Search, number)? {
            number = &number[..m[0].map_or(number.len(), |s| s.0)];
        }
        Ok(number)
    }

    /// `_maybe_strip_extension`: (extension, number before it)
    fn strip_extension<'a>(&self, number: &'a str) -> Result<(String, &'a str), Uncompiled> {
        if let Some(groups) = self.extension.captures(Anchor::Search, number)? {
            let start = groups[0].map_or(0, |s| s.0);
            if self.viable(&number[..start])? {
                if let Some((s, e)) = groups[1..].iter().flatten().next() {
                    return Ok((number[*s..*e].to_string(), &number[..start]));
                }
            }
        }
        Ok((String::new(), number))
    }

    /// `_match_national_number(number, desc, False)`
    fn matches_pattern(desc: Option<&Desc>, number: &str) -> Result<bool, Uncompiled> {
        match desc.and_then(|d| d.pattern.as_ref()) {
            Some(p) if !p.src.is_empty() => p.is_match(Anchor::Full, number),
            _ => Ok(false),
        }
    }

    /// `_is_number_matching_desc`
    fn matches_desc(desc: Option<&Desc>, number: &str) -> Result<bool, Uncompiled> {
        let Some(d) = desc else { return Ok(false) };
        if !d.lengths.is_empty() && !d.lengths.contains(&(number.len() as i32)) {
            return Ok(false);
        }
        Self::matches_pattern(desc, number)
    }

    /// `_test_number_length(number, metadata)` for the unknown type (the general description)
    fn test_length(number: &str, meta: &Meta) -> Length {
        let Some(general) = meta.descs[GENERAL].as_ref() else { return Length::Invalid };
        let n = number.len() as i32;
        let lengths = &general.lengths;
        if general.local.contains(&n) {
            return Length::LocalOnly;
        }
        let Some((&min, rest)) = lengths.split_first() else { return Length::Invalid };
        if min == n {
            Length::Possible
        } else if min > n {
            Length::TooShort
        } else if lengths[lengths.len() - 1] < n {
            Length::TooLong
        } else if rest.contains(&n) {
            Length::Possible
        } else {
            Length::Invalid
        }
    }

    /// `_maybe_strip_national_prefix_carrier_code` (without the carrier code): (number, stripped)
    fn strip_national_prefix(number: &str, meta: &Meta) -> Result<(String, bool), Uncompiled> {
        let Some(npp) = meta.national_prefix_for_parsing.as_ref().filter(|p| !p.src.is_empty()) else {
            return Ok((number.to_string(), false));
        };
        if number.is_empty() {
            return Ok((number.to_string(), false));
        }
        let Some(groups) = npp.captures(Anchor::Start, number)? else { return Ok((number.to_string(), false)) };
        let general = meta.descs[GENERAL].as_ref();
        let viable_original = Self::matches_pattern(general, number)?;
        let num_groups = npp.groups()?;
        let end = groups[0].map_or(0, |s| s.1);
        let transform = meta.national_prefix_transform_rule.as_deref().filter(|t| !t.is_empty());
        match transform {
            Some(rule) if num_groups > 0 && groups[num_groups].is_some() => {
                let mut transformed = String::new();
                expand(rule, number, &groups, &mut transformed);
                transformed.push_str(&number[end..]);
                if viable_original && !Self::matches_pattern(general, &transformed)? {
                    return Ok((number.to_string(), false));
                }
                Ok((transformed, true))
            }
            // a transform rule with no group to read: phonenumbers raises IndexError here
            Some(_) if num_groups == 0 => Err(Uncompiled),
            _ => {
                if viable_original && !Self::matches_pattern(general, &number[end..])? {
                    return Ok((number.to_string(), false));
                }
                Ok((number[end..].to_string(), true))
            }
        }
    }

    /// `_extract_country_code`: (code, rest), code 0 when none
    fn extract_country_code<'a>(&self, number: &'a str) -> (u32, &'a str) {
        if number.is_empty() || number.starts_with('0') {
            return (0, number);
        }
        for i in 1..=number.len().min(MAX_LENGTH_COUNTRY_CODE) {
            if let Ok(code) = number[..i].parse::<u32>() {
                if self.regions_of_code.contains_key(&code) {
                    return (code, &number[i..]);
                }
            }
        }
        (0, number)
    }

    /// `_maybe_strip_i18n_prefix_and_normalize`: (a + or an IDD was stripped, normalized number)
    fn strip_i18n_prefix(&self, number: &str, idd: Option<&Pat>) -> Result<(bool, String), Uncompiled> {
        if number.is_empty() {
            return Ok((false, String::new()));
        }
        if number.starts_with('+') {
            return Ok((true, self.normalize(number.trim_start_matches('+'))?));
        }
        let normalized = self.normalize(number)?;
        if let Some(idd) = idd {
            // _parse_prefix_as_idd
            if let Some(groups) = idd.captures(Anchor::Start, &normalized)? {
                let end = groups[0].map_or(0, |s| s.1);
                let rest = &normalized[end..];
                if rest.chars().find(|c| c.is_ascii_digit()) == Some('0') {
                    return Ok((false, normalized));
                }
                return Ok((true, rest.to_string()));
            }
        }
        Ok((false, normalized))
    }

    /// `_maybe_extract_country_code`: (code, national number), code 0 and "" when none
    fn maybe_extract_country_code(&self, number: &str, meta: Option<&Meta>) -> Result<(u32, String), ParseError> {
        if number.is_empty() {
            return Ok((0, String::new()));
        }
        let idd = meta.and_then(|m| m.international_prefix.as_ref());
        let (international, full) = self.strip_i18n_prefix(number, idd)?;
        if international {
            if full.len() <= MIN_LENGTH_FOR_NSN {
                return Err(ParseError::Other);
            }
            let (code, rest) = self.extract_country_code(&full);
            if code != 0 {
                return Ok((code, rest.to_string()));
            }
            return Err(ParseError::InvalidCountryCode);
        }
        if let Some(m) = meta {
            let code = m.country_code.to_string();
            if let Some(potential) = full.strip_prefix(&code) {
                let (potential, _) = Self::strip_national_prefix(potential, m)?;
                let general = m.descs[GENERAL].as_ref();
                if (!Self::matches_pattern(general, &full)? && Self::matches_pattern(general, &potential)?)
                    || Self::test_length(&full, m) == Length::TooLong
                {
                    return Ok((m.country_code, potential));
                }
            }
        }
        Ok((0, String::new()))
    }

    /// `phonenumbers.parse(text, region)`
    pub fn parse_number(&self, text: &str, region: Option<&str>) -> Outcome {
        if text.chars().count() > MAX_INPUT_STRING_LENGTH {
            return Outcome::NotANumber;
        }
        if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) || text.contains(';') {
            return Outcome::Deferred;
        }
        if region.is_some_and(|r| r.bytes().any(|b| b.is_ascii_lowercase())) {
            return Outcome::Deferred;
        }
        match self.parse_inner(text, region) {
            Ok(p) => Outcome::Parsed(p),
            Err(ParseError::Deferred) => Outcome::Deferred,
            Err(_) => Outcome::NotANumber,
        }
    }

    fn parse_inner(&self, text: &str, region: Option<&str>) -> Result<Parsed, ParseError> {
        let national = self.extract_possible_number(text)?;
        if !self.viable(national)? {
            return Err(ParseError::Other);
        }
        let region_meta = region.and_then(|r| self.regions.get(r));
        // _check_region_for_parsing
        if region_meta.is_none() && !national.starts_with('+') {
            return Err(ParseError::Other);
        }
        let (extension, national) = self.strip_extension(national)?;
        let mut meta = region_meta;
        let (mut code, mut nnn) = match self.maybe_extract_country_code(national, meta) {
            Ok(found) => found,
            Err(ParseError::InvalidCountryCode) if national.starts_with('+') => {
                let found = self.maybe_extract_country_code(national.trim_start_matches('+'), meta)?;
                if found.0 == 0 {
                    return Err(ParseError::Other);
                }
                found
            }
            Err(e) => return Err(e),
        };
        if code != 0 {
            let number_region = self.main_region(code);
            if Some(number_region) != region {
                meta = self.meta_for(code, number_region);
                if meta.is_none() {
                    return Err(ParseError::Deferred);
                }
            }
        } else {
            nnn.push_str(&self.normalize(national)?);
            if region.is_some() {
                code = meta.ok_or(ParseError::Deferred)?.country_code;
            }
        }
        if nnn.len() < MIN_LENGTH_FOR_NSN {
            return Err(ParseError::Other);
        }
        if let Some(m) = meta {
            let (potential, _) = Self::strip_national_prefix(&nnn, m)?;
            if !matches!(Self::test_length(&potential, m), Length::TooShort | Length::LocalOnly | Length::Invalid) {
                nnn = potential;
            }
        }
        if nnn.len() < MIN_LENGTH_FOR_NSN || nnn.len() > MAX_LENGTH_FOR_NSN {
            return Err(ParseError::Other);
        }
        Ok(Parsed { country_code: code, nsn: nnn, extension })
    }

    /// `_number_type_helper`
    fn type_of(nsn: &str, meta: &Meta) -> Result<i8, Uncompiled> {
        use number_type as t;
        let d = |i: usize| meta.descs[i].as_ref();
        if !Self::matches_desc(d(GENERAL), nsn)? {
            return Ok(t::UNKNOWN);
        }
        for (i, ty) in [
            (4, t::PREMIUM_RATE),
            (3, t::TOLL_FREE),
            (5, t::SHARED_COST),
            (6, t::VOIP),
            (7, t::PERSONAL_NUMBER),
            (8, t::PAGER),
            (9, t::UAN),
            (10, t::VOICEMAIL),
        ] {
            if Self::matches_desc(d(i), nsn)? {
                return Ok(ty);
            }
        }
        if Self::matches_desc(d(FIXED_LINE), nsn)? {
            if meta.same_mobile_and_fixed_line_pattern || Self::matches_desc(d(MOBILE), nsn)? {
                return Ok(t::FIXED_LINE_OR_MOBILE);
            }
            return Ok(t::FIXED_LINE);
        }
        if !meta.same_mobile_and_fixed_line_pattern && Self::matches_desc(d(MOBILE), nsn)? {
            return Ok(t::MOBILE);
        }
        Ok(t::UNKNOWN)
    }

    /// `region_code_for_number`
    pub fn region_for_number(&self, p: &Parsed) -> Result<Option<&str>, Uncompiled> {
        Ok(self.region_and_type(p)?.0)
    }

    /// `region_code_for_number`, with the number's type in that region when working the region
    /// out already gave it (a shared calling code's region without leading digits).
    fn region_and_type(&self, p: &Parsed) -> Result<(Option<&str>, Option<i8>), Uncompiled> {
        let Some(regions) = self.regions_of_code.get(&p.country_code) else { return Ok((None, None)) };
        if regions.len() == 1 {
            return Ok((Some(&regions[0]), None));
        }
        for r in regions {
            let Some(m) = self.regions.get(r) else { continue };
            if let Some(ld) = &m.leading_digits {
                if ld.is_match(Anchor::Start, &p.nsn)? {
                    return Ok((Some(r), None));
                }
            } else {
                let t = Self::type_of(&p.nsn, m)?;
                if t != number_type::UNKNOWN {
                    return Ok((Some(r), Some(t)));
                }
            }
        }
        Ok((None, None))
    }

    /// (`region_code_for_number`, `number_type`, `is_valid_number`), each step done once.
    pub fn region_type_valid(&self, p: &Parsed) -> Result<(Option<&str>, i8, bool), Uncompiled> {
        let (region, known) = self.region_and_type(p)?;
        let Some(r) = region else { return Ok((None, number_type::UNKNOWN, false)) };
        let Some(m) = self.meta_for(p.country_code, r) else { return Ok((region, number_type::UNKNOWN, false)) };
        let t = match known {
            Some(t) => t,
            None => Self::type_of(&p.nsn, m)?,
        };
        let valid = (r == NON_GEO || m.country_code == p.country_code) && t != number_type::UNKNOWN;
        Ok((region, t, valid))
    }

    /// `number_type`
    pub fn number_type(&self, p: &Parsed) -> Result<i8, Uncompiled> {
        let Some(region) = self.region_for_number(p)? else { return Ok(number_type::UNKNOWN) };
        match self.meta_for(p.country_code, region) {
            Some(m) => Self::type_of(&p.nsn, m),
            None => Ok(number_type::UNKNOWN),
        }
    }

    /// `is_valid_number`
    pub fn is_valid(&self, p: &Parsed) -> Result<bool, Uncompiled> {
        let Some(region) = self.region_for_number(p)? else { return Ok(false) };
        let Some(m) = self.meta_for(p.country_code, region) else { return Ok(false) };
        if region != NON_GEO && m.country_code != p.country_code {
            return Ok(false);
        }
        Ok(Self::type_of(&p.nsn, m)? != number_type::UNKNOWN)
    }

    /// `is_possible_number`
    pub fn is_possible(&self, p: &Parsed) -> Result<bool, Uncompiled> {
        if !self.regions_of_code.contains_key(&p.country_code) {
            return Ok(false);
        }
        let Some(m) = self.meta_for(p.country_code, self.main_region(p.country_code)) else { return Err(Uncompiled) };
        Ok(matches!(Self::test_length(&p.nsn, m), Length::Possible | Length::LocalOnly))
    }

    /// `format_number(num, E164)`
    pub fn e164(p: &Parsed) -> String {
        format!("+{}{}", p.country_code, p.nsn)
    }

    /// `format_number(num, NATIONAL)` or `format_number(num, INTERNATIONAL)`
    pub fn format(&self, p: &Parsed, national: bool) -> Result<String, Uncompiled> {
        if !self.regions_of_code.contains_key(&p.country_code) {
            return Ok(p.nsn.clone());
        }
        let Some(m) = self.meta_for(p.country_code, self.main_region(p.country_code)) else { return Err(Uncompiled) };
        let formats = if national || m.intl_number_format.is_empty() { &m.number_format } else { &m.intl_number_format };
        // _choose_formatting_pattern_for_number
        let mut chosen = None;
        for f in formats {
            let leading_ok = match &f.leading {
                Some(ld) => ld.is_match(Anchor::Start, &p.nsn)?,
                None => true,
            };
            if leading_ok && f.pattern.is_match(Anchor::Full, &p.nsn)? {
                chosen = Some(f);
                break;
            }
        }
        let mut out = match chosen {
            None => p.nsn.clone(),
            Some(f) => f.pattern.replace_all(&p.nsn, if national { &f.national } else { &f.international })?,
        };
        if !p.extension.is_empty() {
            out.push_str(m.preferred_extn_prefix.as_deref().unwrap_or(" ext. "));
            out.push_str(&p.extension);
        }
        Ok(if national { out } else { format!("+{} {}", p.country_code, out) })
    }
}

/// Every verdict phones.py reads of one (value, region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    NotANumber,
    Deferred,
    Parsed {
        parsed: Parsed,
        valid: bool,
        possible: bool,
        region: Option<String>,
        number_type: i8,
        /// NATIONAL and INTERNATIONAL formats, when `formats` was asked for
        formats: Option<(String, String)>,
    },
}

impl Tables {
    /// Parses and checks one value; formats only a valid number when `formats` (phones.py reads
    /// the layout of valid numbers only).
    pub fn verdict(&self, text: &str, region: Option<&str>, formats: bool) -> Verdict {
        let parsed = match self.parse_number(text, region) {
            Outcome::Parsed(p) => p,
            Outcome::NotANumber => return Verdict::NotANumber,
            Outcome::Deferred => return Verdict::Deferred,
        };
        let checked = (|| -> Result<Verdict, Uncompiled> {
            let (region, number_type, valid) = self.region_type_valid(&parsed)?;
            let region = region.map(str::to_string);
            let possible = self.is_possible(&parsed)?;
            let formats = if formats && valid { Some((self.format(&parsed, true)?, self.format(&parsed, false)?)) } else { None };
            Ok(Verdict::Parsed { parsed: parsed.clone(), valid, possible, region, number_type, formats })
        })();
        checked.unwrap_or(Verdict::Deferred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn tables() -> &'static Tables {
        static T: OnceLock<Tables> = OnceLock::new();
        T.get_or_init(|| {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../factsep/kinds/data/phone_tables.txt.gz");
            let bytes = std::fs::read(path).expect("phone tables (run scripts/gen_phone_tables.py)");
            let text = gunzip(&bytes);
            Tables::parse(&text).expect("tables parse")
        })
    }

    /// The tables are gzip: the test reads them through `gzip -dc` (no inflate crate in the core).
    fn gunzip(bytes: &[u8]) -> String {
        let mut child = std::process::Command::new("gzip")
            .arg("-dc")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("gzip");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(bytes).unwrap();
        }
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.wait().unwrap();
        out
    }

    fn parsed(v: &Verdict) -> (&Parsed, bool) {
        match v {
            Verdict::Parsed { parsed, valid, .. } => (parsed, *valid),
            other => panic!("not parsed: {other:?}"),
        }
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(tables().uncompiled(), Vec::<String>::new());
    }

    #[test]
    fn e164_and_national_forms() {
        let t = tables();
        let v = t.verdict("+1 650-253-0000", None, true);
        let (p, valid) = parsed(&v);
        assert!(valid);
        assert_eq!(Tables::e164(p), "+16502530000");
        let Verdict::Parsed { formats: Some((n, i)), region, .. } = &v else { panic!() };
        assert_eq!((n.as_str(), i.as_str()), ("(650) 253-0000", "+1 650-253-0000"));
        assert_eq!(region.as_deref(), Some("US"));
        let v = t.verdict("020 7031 3000", Some("GB"), true);
        let (p, valid) = parsed(&v);
        assert!(valid);
        assert_eq!((p.country_code, p.nsn.as_str()), (44, "2070313000"));
    }

    #[test]
    fn extension_and_idd() {
        let t = tables();
        let v = t.verdict("011 44 20 7031 3000 ext. 12", Some("US"), false);
        let (p, _) = parsed(&v);
        assert_eq!((p.country_code, p.nsn.as_str(), p.extension.as_str()), (44, "2070313000", "12"));
    }

    #[test]
    fn not_numbers_and_deferred() {
        let t = tables();
        assert_eq!(t.verdict("hello", Some("US"), false), Verdict::NotANumber);
        assert_eq!(t.verdict("6502530000", None, false), Verdict::NotANumber);
        assert_eq!(t.verdict("+1 650 ２53 0000", None, false), Verdict::Deferred);
        assert_eq!(t.verdict("tel:+1-650-253-0000;isub=1", None, false), Verdict::Deferred);
    }

    #[test]
    fn hostile_input_is_rejected_in_linear_time() {
        let t = tables();
        let plus = "+".repeat(1 << 20);
        assert_eq!(t.verdict(&plus, None, true), Verdict::NotANumber);
        let digits = "9".repeat(1 << 20);
        assert_eq!(t.verdict(&digits, Some("US"), true), Verdict::NotANumber);
        let near = format!("+{}", "7".repeat(248));
        assert_eq!(t.verdict(&near, None, true), Verdict::NotANumber);
    }
}

/// The tables as a Python object: `factsep._native.PhoneTables(text)`.
pub mod py {
    use super::{Tables, Verdict};
    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::types::{PyList, PyTuple};

    /// Status codes of a verdict tuple's first field.
    const PARSED: u8 = 0;
    const NOT_A_NUMBER: u8 = 1;
    const DEFERRED: u8 = 2;

    /// phonenumbers' parse and checks from tables generated from its metadata.
    #[pyclass(frozen, module = "factsep._native")]
    pub struct PhoneTables {
        tables: Tables,
    }

    fn to_tuple<'py>(py: Python<'py>, v: &Verdict) -> PyResult<Bound<'py, PyTuple>> {
        let none = py.None();
        match v {
            Verdict::NotANumber | Verdict::Deferred => {
                let status = if matches!(v, Verdict::NotANumber) { NOT_A_NUMBER } else { DEFERRED };
                PyTuple::new(py, [status.into_pyobject(py)?.into_any().unbind(), none.clone_ref(py), none.clone_ref(py),
                    none.clone_ref(py), none.clone_ref(py), none.clone_ref(py), none.clone_ref(py), none.clone_ref(py),
                    none.clone_ref(py), none])
            }
            Verdict::Parsed { parsed, valid, possible, region, number_type, formats } => {
                let (national, international) = match formats {
                    Some((n, i)) => (n.as_str().into_pyobject(py)?.into_any().unbind(),
                                     i.as_str().into_pyobject(py)?.into_any().unbind()),
                    None => (none.clone_ref(py), none.clone_ref(py)),
                };
                let region = match region {
                    Some(r) => r.as_str().into_pyobject(py)?.into_any().unbind(),
                    None => none,
                };
                PyTuple::new(py, [
                    PARSED.into_pyobject(py)?.into_any().unbind(),
                    parsed.country_code.into_pyobject(py)?.into_any().unbind(),
                    parsed.nsn.as_str().into_pyobject(py)?.into_any().unbind(),
                    parsed.extension.as_str().into_pyobject(py)?.into_any().unbind(),
                    pyo3::types::PyBool::new(py, *valid).to_owned().into_any().unbind(),
                    pyo3::types::PyBool::new(py, *possible).to_owned().into_any().unbind(),
                    region,
                    number_type.into_pyobject(py)?.into_any().unbind(),
                    national,
                    international,
                ])
            }
        }
    }

    #[pymethods]
    impl PhoneTables {
        #[new]
        fn new(text: &str) -> PyResult<Self> {
            let tables = Tables::parse(text).map_err(|e| PyValueError::new_err(e.0))?;
            Ok(PhoneTables { tables })
        }

        /// The phonenumbers version the tables were generated from.
        #[getter]
        fn version(&self) -> &str {
            &self.tables.version
        }

        /// (status, country_code, nsn, extension, valid, possible, region, number_type, national,
        /// international) of one value; status 0 parsed, 1 parse raises, 2 deferred (ask
        /// phonenumbers); the formats only of a valid number and when `formats`.
        #[pyo3(signature = (text, region, formats = true))]
        fn verdict<'py>(&self, py: Python<'py>, text: &str, region: Option<&str>, formats: bool) -> PyResult<Bound<'py, PyTuple>> {
            let tables = &self.tables;
            let v = crate::catch(|| tables.verdict(text, region, formats))?;
            to_tuple(py, &v)
        }

        /// `verdict` of each (text, region) pair, the GIL released and the values spread over
        /// `threads` threads (0: one per core).
        #[pyo3(signature = (texts, regions, formats = true, threads = 0))]
        fn verdicts<'py>(
            &self,
            py: Python<'py>,
            texts: Vec<String>,
            regions: Vec<Option<String>>,
            formats: bool,
            threads: usize,
        ) -> PyResult<Bound<'py, PyList>> {
            if texts.len() != regions.len() {
                return Err(PyValueError::new_err(format!(
                    "{} texts but {} regions: give one region (or None) a text", texts.len(), regions.len())));
            }
            let tables = &self.tables;
            let found: Vec<Verdict> = crate::run_detached(py, threads, || {
                use rayon::prelude::*;
                texts.par_iter().zip(regions.par_iter()).with_min_len(256)
                    .map(|(t, r)| tables.verdict(t, r.as_deref(), formats)).collect()
            })?;
            let items = found.iter().map(|v| to_tuple(py, v)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        }
    }
}
