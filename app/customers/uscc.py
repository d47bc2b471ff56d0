"""Unified Social Credit Identifier (GB 32100-2015) validation and check characters."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714 organisation code weights for positions 9-16.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """The 18th character for 17 valid leading characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    return code.strip().upper()


def problems(code: str) -> list[str]:
    """Why `code` is not a valid USCC; an empty list means valid."""
    code = normalize(code)
    if len(code) != 18:
        return [f"must be 18 characters, got {len(code)}"]
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return [f"contains characters outside the USCC set: {''.join(bad)}"]
    if not code[2:8].isdigit():
        return ["positions 3-8 must be the digits of a GB/T 2260 region code"]
    expected = check_char(code[:17])
    if code[17] != expected:
        return [f"check character is {code[17]}, expected {expected}"]
    return []


def is_valid(code: str) -> bool:
    return not problems(code)


def org_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body (X for 10)."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def org_code_warning(code: str) -> str | None:
    """The optional GB 11714 check on positions 9-17; a failure is only a warning."""
    code = normalize(code)
    body, check = code[8:16], code[16]
    try:
        expected = org_check_char(body)
    except ValueError:
        return "organisation code contains characters GB 11714 does not allow"
    if check != expected:
        return f"organisation code check character is {check}, expected {expected}"
    return None
