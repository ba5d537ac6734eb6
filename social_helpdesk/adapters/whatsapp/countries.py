"""The country of a WhatsApp user, which WhatsApp's prices depend on: the
prefix of their business-scoped user id (``BR.1502576394655843``: an ISO
3166 code, per Meta's business-scoped user ids guide), else the calling
code of their phone number. Data only; the table covers the markets Meta
prices on its own (https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing)
and the main Latin American and European ones."""

import re

BSUID_COUNTRY = re.compile(r"([A-Z]{2})\.")

# Calling code -> ISO country. Longest prefix wins (1 is the US rate for
# North America; 52 Mexico; 351 Portugal before 35...).
CALLING_CODES = {
    "1": "US",
    "20": "EG",
    "27": "ZA",
    "30": "GR",
    "31": "NL",
    "32": "BE",
    "33": "FR",
    "34": "ES",
    "36": "HU",
    "39": "IT",
    "40": "RO",
    "41": "CH",
    "43": "AT",
    "44": "GB",
    "45": "DK",
    "46": "SE",
    "47": "NO",
    "48": "PL",
    "49": "DE",
    "51": "PE",
    "52": "MX",
    "53": "CU",
    "54": "AR",
    "55": "BR",
    "56": "CL",
    "57": "CO",
    "58": "VE",
    "60": "MY",
    "61": "AU",
    "62": "ID",
    "63": "PH",
    "64": "NZ",
    "65": "SG",
    "66": "TH",
    "81": "JP",
    "82": "KR",
    "84": "VN",
    "86": "CN",
    "90": "TR",
    "91": "IN",
    "92": "PK",
    "212": "MA",
    "234": "NG",
    "254": "KE",
    "351": "PT",
    "353": "IE",
    "358": "FI",
    "502": "GT",
    "503": "SV",
    "504": "HN",
    "505": "NI",
    "506": "CR",
    "507": "PA",
    "591": "BO",
    "593": "EC",
    "595": "PY",
    "598": "UY",
    "966": "SA",
    "971": "AE",
    "972": "IL",
}
LONGEST_CODE = max(len(code) for code in CALLING_CODES)


def country_of(user_id="", digits=""):
    """ISO code of the user's country, "" when neither id tells."""
    match = BSUID_COUNTRY.match(user_id or "")
    if match:
        return match.group(1)
    for length in range(min(LONGEST_CODE, len(digits or "")), 0, -1):
        country = CALLING_CODES.get(digits[:length])
        if country:
            return country
    return ""
