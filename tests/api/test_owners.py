"""The owner account that keys a posting depends on the posting alone."""

import uuid
from datetime import date

from connectors.graphql_api.owners import posting_owner
from ledger_core import TranCode, tutorial

TODAY = date(2022, 9, 21)
HOUSE = uuid.UUID("78551b96-9c34-46f9-8d5f-c86e4459fcd7")


def test_the_first_uuid_param_naming_an_entry_account_owns_the_posting() -> None:
    """The tutorial's ACH_CREDIT is owned by the customer named in params.account."""
    customer = uuid.uuid4()
    params = {"account": str(customer), "amount": "9.53", "effective": "2022-09-21"}
    assert posting_owner(tutorial.ACH_CREDIT, params, uuid.uuid4(), TODAY) == customer


def test_a_uuid_param_no_entry_uses_does_not_own_the_posting() -> None:
    """A UUID param that names no entry's account is passed over for the first entry's."""
    code = TranCode.model_validate({
        "tranCodeId": str(uuid.uuid4()), "code": "REFERENCED",
        "params": [{"name": "merchant", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"}],
        "entries": [
            {"accountId": f"uuid('{HOUSE}')", "units": "params.amount", "currency": "'USD'",
             "direction": "DEBIT"},
            {"accountId": f"uuid('{HOUSE}')", "units": "params.amount", "currency": "'USD'",
             "direction": "CREDIT"}]})
    params = {"merchant": str(uuid.uuid4()), "amount": "1.00"}
    assert posting_owner(code, params, uuid.uuid4(), TODAY) == HOUSE


def test_a_posting_that_cannot_expand_is_keyed_by_its_transaction_id() -> None:
    """Missing params: the processor will refuse it; the key is stable across re-sends."""
    transaction_id = uuid.uuid4()
    assert posting_owner(tutorial.ACH_CREDIT, {"amount": "1.00"}, transaction_id,
                         TODAY) == transaction_id
