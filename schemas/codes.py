"""CBS area code formats. Buurt and wijk codes may contain letters after the gemeente number
(Amsterdam: BU0363AD03, WK0363AD)."""

GEMEENTE = r"GM\d{4}"
WIJK = r"WK\d{4}[0-9A-Z]{2}"
BUURT = r"BU\d{4}[0-9A-Z]{4}"
NEDERLAND = r"NL\d{2}"
ANY_AREA = rf"(?:{NEDERLAND}|{GEMEENTE}|{WIJK}|{BUURT})"
