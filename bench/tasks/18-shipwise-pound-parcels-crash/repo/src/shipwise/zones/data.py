"""Country groups used to build zones."""

EU = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

NORTH_AMERICA = frozenset({"US", "CA", "MX"})

# Postcode prefixes that count as remote areas, per country.
REMOTE_POSTCODES = {
    "DE": ("18565", "25847", "25849", "25859", "25863", "25869", "26465", "26474", "26486", "26548",
           "26571", "26579", "26757", "27498"),
    "US": ("995", "996", "997", "998", "999", "967", "968"),  # Alaska, Hawaii
    "GB": ("HS", "KW15", "KW16", "KW17", "ZE"),
}
