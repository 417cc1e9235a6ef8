"""The catalogue of random-fact kinds. Importing this package registers every kind.

To add a kind, declare a :class:`~factsep.kinds.base.Kind` in the module of its family and
:func:`~factsep.kinds.base.register` it; then add a positive and a negative to tests/test_kinds.py.
"""

from factsep.kinds import books, dates, generic, ids, network, payments, phones, secrets  # noqa: F401
from factsep.kinds.base import Kind, Validation, get_kind, register, registry

KIND_NAMES = (
    "phone_number", "email_address", "ip_address", "mac_address", "credit_card", "iban",
    "bank_account", "us_ssn", "national_id", "tax_id", "isbn", "issn", "security_id", "uuid",
    "hex_digest", "secret", "crypto_address", "vin", "date_of_birth", "generic_id",
)

__all__ = ["KIND_NAMES", "Kind", "Validation", "get_kind", "register", "registry"]
