"""NACHA's code tables: SEC codes, service classes, transaction codes, return and change codes."""

from __future__ import annotations

from types import MappingProxyType

SEC_CODES = MappingProxyType({
    "PPD": "Prearranged payment and deposit (consumer)",
    "CCD": "Corporate credit or debit",
    "CTX": "Corporate trade exchange",
    "WEB": "Internet-initiated or mobile entry",
    "TEL": "Telephone-initiated entry",
    "POS": "Point-of-sale entry",
    "IAT": "International ACH transaction",
    "COR": "Notification of change or refused notification of change",
})

MIXED, CREDITS_ONLY, DEBITS_ONLY = 200, 220, 225
SERVICE_CLASSES = MappingProxyType({
    MIXED: "Mixed debits and credits",
    CREDITS_ONLY: "Credits only",
    DEBITS_ONLY: "Debits only",
})

TRANSACTION_CODES = MappingProxyType({
    21: "Checking: return or NOC of a credit",
    22: "Checking credit",
    23: "Checking credit prenote",
    24: "Checking zero-dollar credit with remittance data",
    26: "Checking: return or NOC of a debit",
    27: "Checking debit",
    28: "Checking debit prenote",
    29: "Checking zero-dollar debit with remittance data",
    31: "Savings: return or NOC of a credit",
    32: "Savings credit",
    33: "Savings credit prenote",
    34: "Savings zero-dollar credit with remittance data",
    36: "Savings: return or NOC of a debit",
    37: "Savings debit",
    38: "Savings debit prenote",
    39: "Savings zero-dollar debit with remittance data",
    41: "General ledger: return or NOC of a credit",
    42: "General ledger credit",
    43: "General ledger credit prenote",
    44: "General ledger zero-dollar credit with remittance data",
    46: "General ledger: return or NOC of a debit",
    47: "General ledger debit",
    48: "General ledger debit prenote",
    49: "General ledger zero-dollar debit with remittance data",
    51: "Loan: return or NOC of a credit",
    52: "Loan credit",
    53: "Loan credit prenote",
    54: "Loan zero-dollar credit with remittance data",
    55: "Loan debit (reversals only)",
    56: "Loan: return or NOC of a debit",
})


def is_credit(transaction_code: int) -> bool:
    """Credits end in 1-4 (return, live, prenote, zero-dollar); debits end in 5-9."""
    return transaction_code % 10 <= 4


def is_zero_amount(transaction_code: int) -> bool:
    """Prenotes (3, 8) and zero-dollar remittance entries (4, 9) carry no money."""
    return transaction_code % 10 in {3, 4, 8, 9}


def is_live(transaction_code: int) -> bool:
    """Live entries move money; returns and NOCs (1, 6), prenotes and zero-dollar ones do not."""
    return transaction_code % 10 in {2, 5, 7}


def is_return_or_noc(transaction_code: int) -> bool:
    """Codes ending in 1 (of a credit) or 6 (of a debit) carry returns and NOCs."""
    return transaction_code % 10 in {1, 6}


def return_transaction_code(transaction_code: int) -> int:
    """The code that returns an entry: the same account type's return of a credit (ending in
    1) or of a debit (ending in 6), so 22, 23 and 24 come back as 21, 27 as 26, 32 as 31,
    37 as 36 and a loan reversal 55 as 56."""
    if transaction_code not in TRANSACTION_CODES or is_return_or_noc(transaction_code):
        raise ValueError(f"transaction code {transaction_code} is not one of an entry that "
                         "can be returned")
    return transaction_code - transaction_code % 10 + (1 if is_credit(transaction_code) else 6)


RETURN_CODES = MappingProxyType({
    "R01": "Insufficient funds",
    "R02": "Account closed",
    "R03": "No account or unable to locate account",
    "R04": "Invalid account number structure",
    "R05": "Unauthorized debit to consumer account using corporate SEC code",
    "R06": "Returned per ODFI's request",
    "R07": "Authorization revoked by customer",
    "R08": "Payment stopped",
    "R09": "Uncollected funds",
    "R10": "Customer advises originator is not known or not authorized",
    "R11": "Customer advises entry not in accordance with the terms of the authorization",
    "R12": "Account sold to another DFI",
    "R13": "Invalid ACH routing number",
    "R14": "Representative payee deceased or unable to continue in that capacity",
    "R15": "Beneficiary or account holder deceased",
    "R16": "Account frozen or entry returned per OFAC instruction",
    "R17": "File record edit criteria, or entry initiated under questionable circumstances",
    "R18": "Improper effective entry date",
    "R19": "Amount field error",
    "R20": "Non-transaction account",
    "R21": "Invalid company identification",
    "R22": "Invalid individual ID number",
    "R23": "Credit entry refused by receiver",
    "R24": "Duplicate entry",
    "R25": "Addenda error",
    "R26": "Mandatory field error",
    "R27": "Trace number error",
    "R28": "Routing number check digit error",
    "R29": "Corporate customer advises not authorized",
    "R30": "RDFI not participant in check truncation program",
    "R31": "Permissible return entry (CCD and CTX only)",
    "R32": "RDFI non-settlement",
    "R33": "Return of XCK entry",
    "R34": "Limited participation DFI",
    "R35": "Return of improper debit entry",
    "R36": "Return of improper credit entry",
    "R37": "Source document presented for payment",
    "R38": "Stop payment on source document",
    "R39": "Improper source document, or source document presented for payment",
    "R40": "Return of ENR entry by federal government agency",
    "R41": "Invalid transaction code (ENR)",
    "R42": "Routing number or check digit error (ENR)",
    "R43": "Invalid DFI account number (ENR)",
    "R44": "Invalid individual ID number or identification number (ENR)",
    "R45": "Invalid individual name or company name (ENR)",
    "R46": "Invalid representative payee indicator (ENR)",
    "R47": "Duplicate enrollment (ENR)",
    "R50": "State law affecting RCK acceptance",
    "R51": "Item related to RCK entry is ineligible or RCK entry is improper",
    "R52": "Stop payment on item related to RCK entry",
    "R53": "Item and RCK entry presented for payment",
    "R61": "Misrouted return",
    "R62": "Return of erroneous or reversing debit",
    "R67": "Duplicate return",
    "R68": "Untimely return",
    "R69": "Field error(s)",
    "R70": "Permissible return entry not accepted, or return not requested by ODFI",
    "R71": "Misrouted dishonored return",
    "R72": "Untimely dishonored return",
    "R73": "Timely original return",
    "R74": "Corrected return",
    "R75": "Return not a duplicate",
    "R76": "No errors found",
    "R77": "Non-acceptance of R62 dishonored return",
    "R80": "IAT entry coding error",
    "R81": "Non-participant in IAT program",
    "R82": "Invalid foreign receiving DFI identification",
    "R83": "Foreign receiving DFI unable to settle",
    "R84": "Entry not processed by gateway",
    "R85": "Incorrectly coded outbound international payment",
})
# the ODFI dishonors a return with these, and the RDFI contests a dishonored return with those;
# each kind has its own addenda 99 layout
DISHONORED_RETURN_CODES = frozenset({"R61", "R62", "R67", "R68", "R69", "R70"})
CONTESTED_RETURN_CODES = frozenset({"R71", "R72", "R73", "R74", "R75", "R76", "R77"})

CHANGE_CODES = MappingProxyType({
    "C01": "Incorrect DFI account number",
    "C02": "Incorrect routing number",
    "C03": "Incorrect routing number and incorrect DFI account number",
    "C04": "Incorrect individual name or receiving company name",
    "C05": "Incorrect transaction code",
    "C06": "Incorrect DFI account number and incorrect transaction code",
    "C07": "Incorrect routing number, DFI account number and transaction code",
    "C08": "Incorrect receiving DFI identification (IAT only)",
    "C09": "Incorrect individual identification number",
    "C10": "Incorrect company name",
    "C11": "Incorrect company identification",
    "C12": "Incorrect company name and company identification",
    "C13": "Addenda format error",
    "C14": "Incorrect SEC code for outbound international payment",
})
REFUSED_CHANGE_CODES = MappingProxyType({
    "C61": "Misrouted notification of change",
    "C62": "Incorrect trace number",
    "C63": "Incorrect company identification number",
    "C64": "Incorrect individual identification number or identification number",
    "C65": "Incorrectly formatted corrected data",
    "C66": "Incorrect discretionary data",
    "C67": "Routing number not from original entry detail record",
    "C68": "DFI account number not from original entry detail record",
    "C69": "Incorrect transaction code",
})

ORIGINATOR_STATUS_CODES = frozenset({"0", "1", "2"})
FOREIGN_EXCHANGE_INDICATORS = frozenset({"FV", "VF", "FF"})
FOREIGN_EXCHANGE_REFERENCE_INDICATORS = frozenset({"1", "2", "3"})

# what an IAT payment is for (addenda 10, positions 4-6): a purpose, or the SEC code the entry
# would have had as a domestic one
IAT_TRANSACTION_TYPE_CODES = MappingProxyType({
    "ANN": "Annuity", "BUS": "Business or commercial", "DEP": "Deposit", "LOA": "Loan",
    "MIS": "Miscellaneous", "MOR": "Mortgage", "PEN": "Pension", "REM": "Remittance",
    "RLS": "Rent, lease or sale", "SAL": "Salary or payroll", "TAX": "Tax",
    "ARC": "Accounts receivable conversion", "BOC": "Back office conversion",
    "MTE": "Machine transfer entry", "POP": "Point of purchase", "POS": "Point of sale",
    "RCK": "Re-presented check", "SHR": "Shared network", "TEL": "Telephone-initiated",
    "WEB": "Internet-initiated",
})
