"""Named days ("Christmas", "Thanksgiving", "Yom Kippur") from the ``holidays`` package.

The package computes every date, including the movable ones (Easter, Thanksgiving, lunar
calendars). What is written here is only which calendar's name a newsroom word stands for:
"Thanksgiving" is the United States' "Thanksgiving Day", "Bastille Day" France's "National Day".
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

# News name -> (country code, keyword arguments for that country's calendar, its name there).
_US = ("US", (("categories", ("public", "unofficial")),))
_ENGLAND = ("GB", (("subdiv", "ENG"),))
_FRANCE = ("FR", (("language", "en_US"),))
_GERMANY = ("DE", (("language", "en_US"),))
_ISRAEL = ("IL", (("language", "en_US"),))
_SINGAPORE = ("SG", ())
_INDIA = ("IN", ())
_CANADA = ("CA", ())
_AUSTRALIA = ("AU", ())

NAMED_DAYS: dict[str, tuple[tuple[str, tuple], str]] = {
    "new year's day": (_US, "New Year's Day"),
    "new year": (_US, "New Year's Day"),
    "new year's eve": (_US, "New Year's Eve"),
    "christmas": (_US, "Christmas Day"),
    "christmas day": (_US, "Christmas Day"),
    "christmas eve": (_US, "Christmas Eve"),
    "boxing day": (_ENGLAND, "Boxing Day"),
    "easter": (_US, "Easter Sunday"),
    "easter sunday": (_US, "Easter Sunday"),
    "good friday": (_US, "Good Friday"),
    "easter monday": (_ENGLAND, "Easter Monday"),
    "thanksgiving": (_US, "Thanksgiving Day"),
    "thanksgiving day": (_US, "Thanksgiving Day"),
    "independence day": (_US, "Independence Day"),
    "fourth of july": (_US, "Independence Day"),
    "july fourth": (_US, "Independence Day"),
    "memorial day": (_US, "Memorial Day"),
    "labor day": (_US, "Labor Day"),
    "martin luther king day": (_US, "Martin Luther King Jr. Day"),
    "martin luther king jr. day": (_US, "Martin Luther King Jr. Day"),
    "mlk day": (_US, "Martin Luther King Jr. Day"),
    "presidents day": (_US, "Washington's Birthday"),
    "presidents' day": (_US, "Washington's Birthday"),
    "washington's birthday": (_US, "Washington's Birthday"),
    "columbus day": (_US, "Columbus Day"),
    "juneteenth": (_US, "Juneteenth National Independence Day"),
    "veterans day": (_US, "Veterans Day"),
    "halloween": (_US, "Halloween"),
    "valentine's day": (_US, "Valentine's Day"),
    "st. patrick's day": (_US, "Saint Patrick's Day"),
    "st patrick's day": (_US, "Saint Patrick's Day"),
    "saint patrick's day": (_US, "Saint Patrick's Day"),
    "mother's day": (_US, "Mother's Day"),
    "father's day": (_US, "Father's Day"),
    "armistice day": (_FRANCE, "Armistice Day"),
    "remembrance day": (_FRANCE, "Armistice Day"),
    "may day": (_FRANCE, "Labor Day"),
    "bastille day": (_FRANCE, "National Day"),
    "all saints' day": (_FRANCE, "All Saints' Day"),
    "ascension day": (_FRANCE, "Ascension Day"),
    "whit monday": (_FRANCE, "Pentecost Monday"),
    "german unity day": (_GERMANY, "German Unity Day"),
    "canada day": (_CANADA, "Canada Day"),
    "australia day": (_AUSTRALIA, "Australia Day"),
    "anzac day": (_AUSTRALIA, "ANZAC Day"),
    "chinese new year": (_SINGAPORE, "Chinese New Year"),
    "lunar new year": (_SINGAPORE, "Chinese New Year"),
    "eid al-fitr": (_SINGAPORE, "Eid al-Fitr"),
    "eid al-adha": (_SINGAPORE, "Eid al-Adha"),
    "diwali": (_INDIA, "Diwali"),
    "holi": (_INDIA, "Holi"),
    "yom kippur": (_ISRAEL, "Yom Kippur"),
    "rosh hashanah": (_ISRAEL, "Rosh Hashanah"),
    "passover": (_ISRAEL, "Pesach"),
}

PATTERN = "|".join(sorted((name.replace(".", r"\.") for name in NAMED_DAYS), key=len, reverse=True))
"""Every news name, longest first, for use inside a regular expression."""


@lru_cache(maxsize=256)
def _calendar(country: str, options: tuple, year: int) -> dict[str, dt.date]:
    import holidays

    try:
        table = holidays.country_holidays(country, years=year, **dict(options))
    except (NotImplementedError, KeyError, ValueError):
        return {}
    named: dict[str, dt.date] = {}
    for day, names in sorted(table.items()):
        for name in names.split("; "):
            named.setdefault(name, day)
    return named


def named_day(name: str, year: int) -> dt.date | None:
    """The date of a named day in a year, or None if that calendar has no such day then."""
    entry = NAMED_DAYS.get(name)
    if entry is None or not 1 <= year <= 9999:
        return None
    (country, options), official = entry
    return _calendar(country, options, year).get(official)
