"""Dates as they appear on documents."""

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
}


def format_date(d, locale="en"):
    """format_date(date(2024, 3, 5)) == "5 March 2024"; German: "5. März 2024"."""
    months = MONTHS.get(locale, MONTHS["en"])
    if locale == "de":
        return f"{d.day}. {months[d.month - 1]} {d.year}"
    return f"{d.day} {months[d.month - 1]} {d.year}"


def format_iso(d):
    return d.isoformat()
