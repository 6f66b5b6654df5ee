"""The seeds' tutorial documents, sent unchanged over HTTP, give the tutorial's balances."""

from typing import Any

from ledger_core import tutorial
from tests.api.conftest import LiveApi, document

JOURNAL_ID = "822cb59f-ce51-4837-8391-2af3b7a5fc51"
ERNIE, BERT, ASSETS = ("1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
                       "6c6affb0-5cf5-402b-8d84-01bfc1624a2c",
                       "78551b96-9c34-46f9-8d5f-c86e4459fcd7")
ACH_CREDIT_ID, ACH_DEBIT_ID = ("5b2e7c7e-3a2f-4f6b-9d1e-4a1c0c8f0a11",
                               "5b2e7c7e-3a2f-4f6b-9d1e-4a1c0c8f0a12")
BALANCE_VARIABLES = {"ernieId": ERNIE, "bertId": BERT, "assetsId": ASSETS,
                     "journalId": JOURNAL_ID}

CREATE_JOURNAL = """
mutation CreatePrimaryJournal($id: UUID!) {
  createJournal(input: {journalId: $id, name: "Primary", description: "The tutorial's book"}) {
    journalId
    name
    status
  }
}
"""


def settled_units(account: dict[str, Any]) -> str | None:
    """The settled normal balance units of an account in a CheckAccountBalances answer."""
    balance = account["balance"]
    return None if balance is None else str(balance["settled"]["normalBalance"]["units"])


def test_the_tutorial_documents_run_unchanged(api: LiveApi) -> None:
    """Accounts, balances (null), tran codes, deposit, withdrawal, balances: Ernie at 5.25."""
    journal = api.data(CREATE_JOURNAL, {"id": JOURNAL_ID})["createJournal"]
    assert journal == {"journalId": JOURNAL_ID, "name": "Primary", "status": "ACTIVE"}

    customers = api.data(document("002_CreateCustomerAccounts"))
    assert customers == {
        "ernie_checking": {"accountId": ERNIE, "name": "Ernie Bishop - Checking"},
        "bert_checking": {"accountId": BERT, "name": "Bert - Checking"}}
    assets = api.data(document("003_CreateAssetsAccount"))
    assert assets == {"createAccount": {"accountId": ASSETS, "name": "Assets",
                                        "normalBalanceType": "DEBIT"}}

    before = api.data(document("004_CheckAccountBalances"), BALANCE_VARIABLES)
    assert before == {"ernie": {"name": "Ernie Bishop - Checking", "balance": None},
                      "bert": {"name": "Bert - Checking", "balance": None},
                      "assets": {"name": "Assets", "balance": None}}

    tran_codes = api.data(document("005_CreateDepositAndWithdrawalTranCodes"),
                          {"achCrId": ACH_CREDIT_ID, "achDrId": ACH_DEBIT_ID})
    assert tran_codes == {"achCredit": {"tranCodeId": ACH_CREDIT_ID},
                          "achDebit": {"tranCodeId": ACH_DEBIT_ID}}

    deposit = api.data(document("006_PostDeposit"))["postTransaction"]
    assert deposit == {
        "transactionId": str(tutorial.DEPOSIT.transaction_id), "tranCodeId": ACH_CREDIT_ID,
        "effective": "2022-09-21",
        "entries": {"nodes": [
            {"units": "9.53", "direction": "DEBIT", "account": {"name": "Assets"}},
            {"units": "9.53", "direction": "CREDIT",
             "account": {"name": "Ernie Bishop - Checking"}}]}}
    withdrawal = api.data(document("007_PostWithdrawal"))["postTransaction"]
    assert withdrawal == {
        "transactionId": str(tutorial.WITHDRAWAL.transaction_id), "tranCodeId": ACH_DEBIT_ID,
        "effective": "2022-09-21",
        "entries": {"nodes": [
            {"units": "4.28", "direction": "CREDIT", "account": {"name": "Assets"}},
            {"units": "4.28", "direction": "DEBIT",
             "account": {"name": "Ernie Bishop - Checking"}}]}}

    # Ernie owns both postings, so a query sees them at once. The assets account may sit on
    # another partition, whose processor applies the legs right after: wait for that, as
    # any reader of a remote balance must (Mutation.queries does it by itself).
    api.ledger.client().wait_converged()
    after = api.data(document("004_CheckAccountBalances"), BALANCE_VARIABLES)
    assert settled_units(after["ernie"]) == "5.25"
    assert settled_units(after["assets"]) == "5.25"
    assert after["bert"] == {"name": "Bert - Checking", "balance": None}
