"""E-mail, IP and MAC addresses.

bits: e-mail, the local part by its character classes (capped at 64) plus 8 bits for the domain;
IPv4, 32 bits less the fixed prefix of private, loopback and link-local ranges; IPv6, 16 bits per
non-zero group; MAC, 48 bits less the 24-bit vendor prefix plus log2 of about 2^15 vendors.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from stdnum import mac as stdnum_mac

from factsep.detection.scoring import validator_weight
from factsep.kinds.base import Kind, Validation, charset_bits, register

_LOCAL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$")


#: A local part spelled as the parts of a name it stands for ("firstname.lastname", "your_name",
#: "first.last"): a template of an address, not one.
_TEMPLATE_LOCAL = re.compile(r"(?i:(?:first|last|given|family|sur|your|user|full)?[._\-]?name"
                             r"(?:[._\-](?:first|last|given|family|sur|middle)?[._\-]?name)*|first[._\-]last)")


def validate_email(value: str, opts: Mapping[str, Any]) -> Validation | None:
    local, _, domain = value.rpartition("@")
    if not local or ".." in local or not _LOCAL.match(local) or len(local) > 64:
        return None
    if _TEMPLATE_LOCAL.fullmatch(local):
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels) or not labels[-1].isalpha():
        return None
    return Validation(normalized=value.lower(), subtype=None, validated=True)


def email_bits(normalized: str) -> float:
    local = normalized.split("@", 1)[0]
    return min(charset_bits(local), 64.0) + 8.0


EMAIL = register(Kind(
    name="email_address",
    pattern=r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,6}\.[A-Za-z]{2,24}\b",
    validate=validate_email,
    bits=email_bits,
    bits_rule="local part: length * log2(alphabet of its character classes), at most 64; +8 for the domain",
    context=("email", "e-mail", "mail", "contact", "write", "address", "邮箱", "correo"),
    negative=("example", "noreply", "no-reply"),
    prior=0.93,
    specificity=90,
    example="jane.doe@example.org",
    description="e-mail addresses",
    min_len=6,
    needs_char="@",
))

#: Logits for zero-padded octets: rarer in addresses than in dotted numbers (versions, dates, phones)
W_ZERO_PADDED = validator_weight("network", "zero_padded")

_PRIVATE_PREFIX = (
    (ipaddress.ip_network("10.0.0.0/8"), 8),
    (ipaddress.ip_network("172.16.0.0/12"), 12),
    (ipaddress.ip_network("192.168.0.0/16"), 16),
    (ipaddress.ip_network("127.0.0.0/8"), 8),
    (ipaddress.ip_network("169.254.0.0/16"), 16),
)


def validate_ip(value: str, opts: Mapping[str, Any]) -> Validation | None:
    parts = value.split(".")
    # octets padded with zeros ("010.020.030.040") are still an address, if an unusual one: the
    # standard library refuses them (some tools read them as octal), so they are read as decimal
    padded = len(parts) == 4 and any(len(p) > 1 and p.startswith("0") for p in parts)
    try:
        ip = ipaddress.ip_address(".".join(str(int(p)) for p in parts) if padded else value)
    except ValueError:
        return None
    if ip.version == 4:
        strength = validator_weight("network", "unspecified") if ip.is_unspecified or str(ip).endswith(".0.0") else 0.0
        return Validation(normalized=str(ip), subtype="ipv4", validated=True,
                          strength=strength + (W_ZERO_PADDED if padded else 0.0))
    return Validation(normalized=ip.compressed, subtype="ipv6", validated=True,
                      strength=validator_weight("network", "ipv6"))


def ip_bits(normalized: str) -> float:
    ip = ipaddress.ip_address(normalized)
    if ip.version == 6:
        return 16.0 * sum(1 for g in ip.exploded.split(":") if g != "0000")
    for net, prefix in _PRIVATE_PREFIX:
        if ip in net:
            return 32.0 - prefix
    return 32.0 if not ip.is_unspecified else 0.0


_H = "[0-9A-Fa-f]{1,4}"
IP = register(Kind(
    name="ip_address",
    pattern=(
        r"\b(?:\d{1,3}\.){3}\d{1,3}\b"
        rf"|(?:{_H}:){{7}}{_H}"
        rf"|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}"
        rf"|(?:{_H}:){{1,7}}:"
        rf"|::(?:{_H}:){{0,6}}{_H}"
    ),
    validate=validate_ip,
    bits=ip_bits,
    bits_rule="IPv4: 32 minus the fixed prefix of private/loopback ranges; IPv6: 16 per non-zero group",
    context=("ip", "address", "host", "server", "client", "from", "connect", "connection", "addr",
             "ipv4", "ipv6", "地址", "src", "dst", "remote"),
    negative=("version", "v", "release", "ver", "build", "firmware", "section", "§", "rule"),
    prior=0.8,
    specificity=70,
    example="203.0.113.42",
    description="IPv4 and IPv6 addresses (stdlib ipaddress)",
    min_len=3,
))


def validate_mac(value: str, opts: Mapping[str, Any]) -> Validation | None:
    try:
        norm = stdnum_mac.validate(value)
    except Exception:
        return None
    if len(set(norm.replace(":", ""))) <= 1:
        return None
    return Validation(normalized=norm, subtype="eui48", validated=True)


MAC = register(Kind(
    name="mac_address",
    pattern=r"\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b",
    validate=validate_mac,
    bits=lambda normalized: 24.0 + 15.0,
    bits_rule="24 bits chosen by the vendor + log2(~2^15 registered vendor prefixes)",
    context=("mac", "hwaddr", "ether", "ethernet", "wifi", "adapter", "interface", "nic", "bssid"),
    negative=(),
    prior=0.85,
    specificity=75,
    example="00:1a:2b:3c:4d:5e",
    description="MAC addresses (python-stdnum mac)",
    min_len=14,
))
