"""Multilingual sentences with gold offsets, generated with Faker (a dev dependency).

Why: the labelled sets are mostly English, and a phone number next to "Handynummer" or a date of
birth written "14. März 1987" must be found as well as its English twin. Each locale writes its
values in its own sentences: phone words and birth words of the language, dates of birth in the
locale's date formats and month names, e-mail addresses, IBANs, and negative sentences whose
numbers are no random facts (prices, years, quantities, other dates, versions).

Values come from a seeded Faker per locale. Phone numbers are kept when ``phonenumbers`` says they
are valid for the locale's region (Faker also makes up numbers outside every numbering plan, which
no reader could call a phone number of that country); dates of birth lie between 1935 and 2008.

``docs(seed)`` returns ``bench/quality.py`` documents, one source per locale (``faker-de_DE``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from quality import Doc, Gold

#: Locale -> phonenumbers region.
LOCALES = {"en_US": "US", "de_DE": "DE", "fr_FR": "FR", "es_ES": "ES", "it_IT": "IT", "pt_BR": "BR",
           "nl_NL": "NL", "ja_JP": "JP", "zh_CN": "CN"}

_MONTHS = {
    "en_US": "January February March April May June July August September October November December",
    "de_DE": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr_FR": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es_ES": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it_IT": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "pt_BR": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "nl_NL": "januari februari maart april mei juni juli augustus september oktober november december",
}


def _date_formats(locale: str) -> tuple[Callable[[dt.date], str], ...]:
    m = _MONTHS.get(locale, "").split()
    if locale == "en_US":
        return (lambda d: f"{m[d.month - 1]} {d.day}, {d.year}", lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
                lambda d: f"{d.day} {m[d.month - 1]} {d.year}")
    if locale == "de_DE":
        return (lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}", lambda d: f"{d.day}. {m[d.month - 1]} {d.year}")
    if locale in ("fr_FR", "it_IT"):
        return (lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}", lambda d: f"{d.day} {m[d.month - 1]} {d.year}")
    if locale in ("es_ES", "pt_BR"):
        return (lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}", lambda d: f"{d.day} de {m[d.month - 1]} de {d.year}")
    if locale == "nl_NL":
        return (lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}", lambda d: f"{d.day} {m[d.month - 1]} {d.year}")
    if locale in ("ja_JP", "zh_CN"):
        sep = "/" if locale == "ja_JP" else "-"
        return (lambda d: f"{d.year}年{d.month}月{d.day}日", lambda d: f"{d.year}{sep}{d.month:02d}{sep}{d.day:02d}")
    raise ValueError(locale)


#: Per locale and kind: sentences with {v} where the value goes. Negatives use {n}, {y}, {d}.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "en_US": {
        "phone_number": ("Call me at {v} after six.", "My cell number is {v}.", "Phone: {v}",
                         "You can reach the front desk on {v} any weekday."),
        "date_of_birth": ("She was born on {v} in Ohio.", "Date of birth: {v}", "DOB {v}, male.",
                          "He was born {v} and raised in Texas."),
        "email_address": ("Write to {v} with your questions.", "E-mail: {v}"),
        "iban": ("Please transfer the deposit to IBAN {v}.",),
    },
    "de_DE": {
        "phone_number": ("Für Rückfragen bin ich mobil unter {v} erreichbar.",
                         "Rufen Sie uns unter {v} an.", "Telefon: {v}",
                         "Sie erreichen das Sekretariat telefonisch unter {v}."),
        "date_of_birth": ("Er wurde am {v} in Köln geboren.", "Geburtsdatum: {v}", "geboren am {v} in Hamburg",
                          "Die Patientin ist am {v} geboren."),
        "email_address": ("Schreiben Sie an {v}.", "E-Mail: {v}"),
        "iban": ("Bitte überweisen Sie den Betrag auf das Konto mit der IBAN {v}.",),
    },
    "fr_FR": {
        "phone_number": ("Pour un rendez-vous, téléphonez au {v}.",
                         "Mon numéro de portable est le {v}.", "Téléphone : {v}",
                         "Vous pouvez nous joindre au {v} du lundi au vendredi."),
        "date_of_birth": ("Elle est née le {v} à Lyon.", "Date de naissance : {v}", "Il est né le {v} à Paris.",
                          "né le {v}, de nationalité française"),
        "email_address": ("Écrivez-nous à {v}.", "Courriel : {v}"),
        "iban": ("Merci de virer le montant sur l'IBAN {v}.",),
    },
    "es_ES": {
        "phone_number": ("Llame al {v} para pedir cita.", "Mi número de móvil es {v}.", "Teléfono: {v}",
                         "Puede contactarnos en el teléfono {v}."),
        "date_of_birth": ("Nació el {v} en Sevilla.", "Fecha de nacimiento: {v}", "nacida el {v} en Madrid",
                          "El paciente nació el {v}."),
        "email_address": ("Escríbanos a {v}.", "Correo electrónico: {v}"),
        "iban": ("Haga la transferencia a la cuenta IBAN {v}.",),
    },
    "it_IT": {
        "phone_number": ("Chiami il numero {v} per prenotare.", "Il mio cellulare è {v}.", "Telefono: {v}",
                         "Può contattare la segreteria al numero di telefono {v}."),
        "date_of_birth": ("È nato il {v} a Torino.", "Data di nascita: {v}", "nata il {v} a Napoli",
                          "La paziente è nata il {v}."),
        "email_address": ("Scriva a {v}.", "Indirizzo e-mail: {v}"),
        "iban": ("Effettui il bonifico sull'IBAN {v}.",),
    },
    "pt_BR": {
        "phone_number": ("Ligue para {v} e fale com a recepção.", "Meu celular é {v}.", "Telefone: {v}",
                         "Você pode nos contatar pelo telefone {v}."),
        "date_of_birth": ("Ele nasceu em {v} em Recife.", "Data de nascimento: {v}", "nascida em {v} em Salvador",
                          "A paciente nasceu em {v}."),
        "email_address": ("Escreva para {v}.", "E-mail: {v}"),
        "iban": ("Faça a transferência para o IBAN {v}.",),
    },
    "nl_NL": {
        "phone_number": ("Bel ons op {v} voor een afspraak.", "Mijn mobiele nummer is {v}.", "Telefoon: {v}",
                         "U kunt het secretariaat bereiken op telefoonnummer {v}."),
        "date_of_birth": ("Hij is geboren op {v} in Utrecht.", "Geboortedatum: {v}", "geboren op {v} te Leiden",
                          "De patiënte is geboren op {v}."),
        "email_address": ("Stuur een e-mail naar {v}.", "E-mail: {v}"),
        "iban": ("Maak het bedrag over naar IBAN {v}.",),
    },
    "ja_JP": {
        "phone_number": ("電話番号は{v}です。", "お問い合わせは{v}までお電話ください。", "携帯：{v}",
                         "受付の電話番号 {v} にご連絡ください。"),
        "date_of_birth": ("生年月日：{v}", "私は{v}に生まれました。", "{v}生まれの男性です。", "生年月日は{v}です。"),
        "email_address": ("メールアドレスは{v}です。", "メール：{v}"),
    },
    "zh_CN": {
        "phone_number": ("我的手机号是{v}。", "请拨打电话{v}联系我们。", "电话：{v}", "联系电话 {v}，工作日有人接听。"),
        "date_of_birth": ("出生日期：{v}", "他出生于{v}。", "她于{v}出生在上海。", "出生日期为{v}。"),
        "email_address": ("我的邮箱是{v}。", "邮箱：{v}"),
    },
}

NEGATIVES: dict[str, tuple[str, ...]] = {
    "en_US": ("The total came to ${n}.{c} after tax.", "The meeting moved to {d}.", "Revenue grew 12% in {y}.",
              "Version {n}.{c}.1 fixes the crash.", "About {n} people attended in {y}."),
    "de_DE": ("Der Preis beträgt {n},{c} Euro.", "Die Sitzung findet am {d} statt.", "Im Jahr {y} wuchs der Umsatz.",
              "Version {n}.{c}.1 behebt den Fehler.", "Etwa {n} Menschen kamen {y} zum Fest."),
    "fr_FR": ("Le prix est de {n},{c} euros.", "La réunion aura lieu le {d}.", "En {y}, le chiffre a doublé.",
              "La version {n}.{c}.1 corrige le bogue.", "Environ {n} personnes sont venues en {y}."),
    "es_ES": ("El precio es de {n},{c} euros.", "La reunión será el {d}.", "En {y} las ventas crecieron.",
              "La versión {n}.{c}.1 corrige el fallo.", "Unas {n} personas asistieron en {y}."),
    "it_IT": ("Il prezzo è di {n},{c} euro.", "La riunione si terrà il {d}.", "Nel {y} le vendite sono cresciute.",
              "La versione {n}.{c}.1 corregge il difetto.", "Circa {n} persone sono venute nel {y}."),
    "pt_BR": ("O preço é R$ {n},{c}.", "A reunião será em {d}.", "Em {y} as vendas cresceram.",
              "A versão {n}.{c}.1 corrige o erro.", "Cerca de {n} pessoas vieram em {y}."),
    "nl_NL": ("De prijs is {n},{c} euro.", "De vergadering is op {d}.", "In {y} groeide de omzet.",
              "Versie {n}.{c}.1 lost de fout op.", "Ongeveer {n} mensen kwamen in {y}."),
    "ja_JP": ("価格は{n}円です。", "会議は{d}に行われます。", "{y}年に売上が伸びました。",
              "バージョン{n}.{c}.1で修正されました。"),
    "zh_CN": ("价格是{n}元。", "会议将于{d}举行。", "{y}年销售额增长了。", "版本{n}.{c}.1修复了这个问题。"),
}


def _phone(fake, region: str, r: random.Random) -> str:
    import phonenumbers

    for _ in range(40):
        v = fake.phone_number()
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(v, region)):
                return v
        except phonenumbers.NumberParseException:
            continue
    raise RuntimeError(f"Faker made no valid {region} phone number in 40 tries")


def docs(seed: int = 7, per_kind: int = 24, negatives: int = 16) -> list[Doc]:
    from faker import Faker

    out: list[Doc] = []
    for locale, region in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        r = random.Random(f"{seed}|{locale}")
        formats = _date_formats(locale)
        for kind, templates in TEMPLATES[locale].items():
            for i in range(per_kind):
                if kind == "phone_number":
                    value = _phone(fake, region, r)
                elif kind == "date_of_birth":
                    value = r.choice(formats)(fake.date_between(dt.date(1935, 1, 1), dt.date(2008, 12, 31)))
                elif kind == "email_address":
                    value = fake.free_email()
                else:
                    value = fake.iban()
                head, _, tail = templates[i % len(templates)].partition("{v}")
                out.append(Doc(f"ml-{locale}-{kind}-{i}", f"faker-{locale}", head + value + tail,
                               [Gold(len(head), len(head) + len(value), kind)]))
        for i in range(negatives):
            template = NEGATIVES[locale][i % len(NEGATIVES[locale])]
            day = r.choice(formats)(fake.date_between(dt.date(2015, 1, 1), dt.date(2026, 12, 31)))
            text = template.format(n=r.randint(2, 9999), c=f"{r.randint(0, 99):02d}", y=r.randint(1950, 2026), d=day)
            out.append(Doc(f"ml-{locale}-neg-{i}", f"faker-{locale}", text, []))
    return out
