"""Which python-stdnum formats factsep reaches, and under which kind.

Each python-stdnum module validating an identifier is listed once with its factsep kind; the
module name becomes the span's subtype (``stdnum.es.nif``). Modules left out are algorithms
(luhn, iso7064), classifications (cfi, nace) and postal codes: none of them is a random fact.
Formats that have a kind of their own (isbn, issn, iban, mac, bitcoin, us.ssn) are handled there.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

TAX_ID = (
    "ad.nrt al.nipt ar.cuit at.businessid at.tin at.uid au.abn au.acn au.tfn az.voen be.vat bg.vat "
    "br.cnpj by.unp ca.bn ch.uid ch.vat cl.rut cn.uscc co.nit cr.cpj cy.vat cz.dic cz.ico "
    "de.handelsregisternummer de.idnr de.stnr de.vat dk.cvr do.ncf do.rnc dz.nif ec.ruc ee.kmkr "
    "ee.registrikood eg.tn es.cae es.cif es.nif eu.excise eu.oss eu.vat fi.alv fi.associationid "
    "fi.veronumero fi.ytunnus fo.vn fr.accise fr.nif fr.rcs fr.siren fr.siret fr.tva gb.utr gb.vat "
    "gh.tin gn.nifp gr.vat gt.nit hr.oib hu.anum id.npwp ie.vat il.hp in_.gstin is_.vsk it.iva "
    "jp.cn ke.pin kr.brn lt.pvm lu.tva lv.pvn ma.ice mc.tva md.idno me.pib mk.edb mt.vat "
    "mx.rfc mz.nuit nl.btw no.mva no.orgnr nz.ird pe.ruc pl.nip pl.regon pt.nif py.ruc ro.cf "
    "ro.cui ro.onrc rs.pib ru.inn ru.ogrn se.orgnr se.vat sg.uen si.ddv si.maticna sk.dph sm.coe "
    "sn.ninea sv.nit th.moa th.tin tn.mf tr.vkn tw.ubn ua.edrpou ua.rntrc us.atin us.ein us.ptin "
    "us.tin uy.rut ve.rif vn.mst za.tin"
).split()

NATIONAL_ID = (
    "ar.dni at.vnr be.bis be.eid be.nn be.ssn bg.egn bg.pnf br.cpf ca.bc_phn ca.sin ch.ssn cn.ric "
    "cr.cpf cr.cr cu.ni cz.rc dk.cpr do.cedula ec.ci ee.ik es.dni es.nie fi.hetu fr.nir gb.nhs "
    "gb.upn gr.amka id.nik ie.pps il.idnr in_.aadhaar in_.epic in_.vid is_.kennitala "
    "it.codicefiscale jp.in_ kr.rrn li.peid lt.asmens mu.nid mx.curp my.nric nl.bsn "
    "nl.identiteitskaartnummer nl.onderwijsnummer no.fodselsnummer pe.cui pk.cnic pl.pesel pt.cc "
    "ro.cnp se.personnummer si.emso sk.rc th.pin tr.tckimlik za.idnr in_.pan"
).split()

SECURITY_ID = "cusip de.wkn figi gb.sedol isin lei".split()

BANK_ACCOUNT = "ar.cbu bic cz.bankaccount es.ccc no.kontonr nz.bankaccount us.rtn eu.at_02".split()

GENERIC_ID = (
    "casrn ch.esr es.cups es.referenciacatastral eu.banknote eu.ecnumber eu.eic grid imei imo imsi "
    "isan isil ismn isni isrc iso11649 iso6346 meid be.ogm_vcs de.leitweg it.aic nl.brin"
).split()

KIND_MODULES: dict[str, tuple[str, ...]] = {
    "tax_id": tuple(TAX_ID),
    "national_id": tuple(NATIONAL_ID),
    "security_id": tuple(SECURITY_ID),
    "bank_account": tuple(BANK_ACCOUNT),
    "generic_id": tuple(GENERIC_ID),
}


@cache
def load(module: str) -> ModuleType | None:
    """The python-stdnum module, or None when this python-stdnum release lacks it."""
    try:
        return importlib.import_module(f"stdnum.{module}")
    except ImportError:
        return None


@cache
def delegates(module: str) -> tuple[str, ...]:
    """Formats of another kind that this one is a union of: th.tin accepts every th.pin, es.nif
    every es.dni. A value the delegate accepts is the delegate's, so its reading comes from there."""
    mod = load(module)
    own = kind_of(module)
    return tuple(
        name for value in vars(mod or object).values()
        if isinstance(value, ModuleType) and value.__name__.startswith("stdnum.")
        and (name := value.__name__.removeprefix("stdnum.")) != module
        and kind_of(name) not in (None, own)
    )


def kind_of(module: str) -> str | None:
    return _KIND_OF.get(module)


_KIND_OF = {name: kind for kind, names in KIND_MODULES.items() for name in names}


@cache
def acronyms(module: str) -> tuple[str, ...]:
    """Local names of a format from its docstring ("NIF", "Partita IVA"), used as context words."""
    mod = load(module)
    doc = (mod.__doc__ or "").strip().splitlines()[0] if mod and mod.__doc__ else ""
    head = doc.split("(", 1)[0].strip().rstrip(".")
    words = [w.strip(" .") for w in head.replace(",", " ").split()]
    return tuple(w.lower() for w in words if 2 <= len(w) <= 12 and w.lower() not in _STOP)


_STOP = frozenset({"the", "number", "numbers", "of", "and", "a", "an", "no", "nr", "id", "identifier", "code", "n°",
                   "for", "or", "in", "new", "euro", "iso", "6346"})


@cache
def prefix_words() -> frozenset[str]:
    """Every format's local names: a word written before a value ("CUIT 20-...") names it."""
    return frozenset(w for mods in KIND_MODULES.values() for m in mods for w in acronyms(m))
