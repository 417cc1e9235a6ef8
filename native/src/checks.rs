//! Structural checks of the kinds whose validity is a checksum or a shape, one verdict a value.
//!
//! Each check gives the verdict of the library the Python path trusts, on ASCII input:
//! python-stdnum (`luhn.is_valid`, `iso7064.mod_97_10.is_valid` of an IBAN rearranged,
//! `isbn.is_valid`, `issn.is_valid`), `uuid.UUID(...).version` on the canonical 8-4-4-4-12 form and
//! `ipaddress.ip_address(...).version`; `tests/test_native.py` holds them to it on generated values.
//! Non-ASCII input is rejected (the Python libraries map a few Unicode dashes and digits first).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A check's name, as the Python side names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Luhn,
    IbanMod97,
    Isbn,
    Issn,
    UuidVersion,
    IpVersion,
    Hex,
}

impl Check {
    pub fn parse(name: &str) -> Option<Check> {
        Some(match name {
            "luhn" => Check::Luhn,
            "iban_mod97" => Check::IbanMod97,
            "isbn" => Check::Isbn,
            "issn" => Check::Issn,
            "uuid_version" => Check::UuidVersion,
            "ip_version" => Check::IpVersion,
            "hex" => Check::Hex,
            _ => return None,
        })
    }

    /// The verdict as one signed byte: 1/0 for the boolean checks; for `uuid_version` the version,
    /// -1 when not a canonical UUID, -2 when its variant is not RFC 4122 (Python's `None`); for
    /// `ip_version` 4, 6 or 0.
    pub fn run(self, value: &str) -> i8 {
        match self {
            Check::Luhn => i8::from(luhn(value)),
            Check::IbanMod97 => i8::from(iban_mod97(value)),
            Check::Isbn => i8::from(isbn(value)),
            Check::Issn => i8::from(issn(value)),
            Check::UuidVersion => uuid_version(value),
            Check::IpVersion => ip_version(value),
            Check::Hex => i8::from(!value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit())),
        }
    }
}

fn digit(b: u8) -> Option<u32> {
    b.is_ascii_digit().then(|| u32::from(b - b'0'))
}

/// Luhn (ISO/IEC 7812): a non-empty run of ASCII digits whose checksum is 0.
pub fn luhn(value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, b) in value.bytes().rev().enumerate() {
        let Some(d) = digit(b) else { return false };
        sum += if i % 2 == 1 { (d * 2) / 10 + (d * 2) % 10 } else { d };
    }
    sum.is_multiple_of(10)
}

/// ISO 7064 mod 97-10 over an IBAN moved to check order (country and check digits last).
pub fn iban_mod97(value: &str) -> bool {
    if value.is_empty() || !value.is_ascii() {
        return false;
    }
    let bytes = value.as_bytes();
    let split = bytes.len().min(4);
    let mut rem = 0u32;
    for &b in bytes[split..].iter().chain(&bytes[..split]) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => return false,
        };
        rem = if v < 10 { (rem * 10 + v) % 97 } else { (rem * 100 + v) % 97 };
    }
    rem == 1
}

/// python-stdnum's `compact` for ISBN and ISSN: drop spaces and hyphens, strip, upper-case.
fn compact(value: &str) -> Option<Vec<u8>> {
    if !value.is_ascii() {
        return None;
    }
    let kept: Vec<u8> = value.bytes().filter(|&b| b != b' ' && b != b'-').collect();
    // str.strip(): ASCII whitespace and the separators \x1c-\x1f
    let ws = |b: &u8| matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b'\x1c'..=b'\x1f');
    let lo = kept.iter().position(|b| !ws(b)).unwrap_or(kept.len());
    let hi = kept.iter().rposition(|b| !ws(b)).map_or(lo, |i| i + 1);
    Some(kept[lo..hi].iter().map(|b| b.to_ascii_uppercase()).collect())
}

fn mod11_check_char(check: u32) -> u8 {
    if check == 10 {
        b'X'
    } else {
        b'0' + check as u8
    }
}

/// ISBN-10 (mod 11) or ISBN-13 (EAN-13 with a 978/979 prefix), after `compact`.
pub fn isbn(value: &str) -> bool {
    let Some(mut n) = compact(value) else { return false };
    if n.len() == 9 {
        n.insert(0, b'0');
    }
    if n.is_empty() || !n[..n.len() - 1].iter().all(u8::is_ascii_digit) {
        return false;
    }
    match n.len() {
        10 => {
            let sum: u32 = n[..9].iter().enumerate().map(|(i, &b)| (i as u32 + 1) * u32::from(b - b'0')).sum();
            mod11_check_char(sum % 11) == n[9]
        }
        13 => {
            if !n[12].is_ascii_digit() || !(n.starts_with(b"978") || n.starts_with(b"979")) {
                return false;
            }
            let sum: u32 = n[..12]
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &b)| if i % 2 == 0 { 3 } else { 1 } * u32::from(b - b'0'))
                .sum();
            (10 - sum % 10) % 10 == u32::from(n[12] - b'0')
        }
        _ => false,
    }
}

/// ISSN: eight characters after `compact`, the last a mod 11 check digit or X.
pub fn issn(value: &str) -> bool {
    let Some(n) = compact(value) else { return false };
    if n.len() != 8 || !n[..7].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = n[..7].iter().enumerate().map(|(i, &b)| (8 - i as u32) * u32::from(b - b'0')).sum();
    mod11_check_char((11 - sum % 11) % 11) == n[7]
}

/// The version of a canonical UUID (8-4-4-4-12 hex digits), -1 if it is none, -2 if its variant
/// is not RFC 4122.
pub fn uuid_version(value: &str) -> i8 {
    let b = value.as_bytes();
    if b.len() != 36 {
        return -1;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() };
        if !ok {
            return -1;
        }
    }
    let nibble = |c: u8| (c as char).to_digit(16).unwrap_or(0) as i8;
    let variant = nibble(b[19]);
    if variant & 0x8 == 0 || variant & 0x4 != 0 {
        return -2;
    }
    nibble(b[14])
}

/// 4 or 6 when `ipaddress.ip_address` accepts the text (no zone index), else 0.
pub fn ip_version(value: &str) -> i8 {
    if value.parse::<Ipv4Addr>().is_ok() {
        4
    } else if value.parse::<Ipv6Addr>().is_ok() {
        6
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!(luhn("79927398713"));
        assert!(!luhn("79927398710"));
        assert!(iban_mod97("GB82WEST12345698765432"));
        assert!(isbn("978-0-306-40615-7"));
        assert!(isbn("0-306-40615-2"));
        assert!(issn("0378-5955"));
        assert_eq!(uuid_version("123e4567-e89b-42d3-a456-426614174000"), 4);
        assert_eq!(ip_version("::ffff:10.0.0.1"), 6);
        assert_eq!(ip_version("010.0.0.1"), 0);
    }
}
