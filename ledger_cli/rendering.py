"""Plain-text rendering of command results for people; ``--json`` prints the raw result."""

from typing import Any


def render_result(result: dict[str, Any]) -> str:
    """One line for the status, then what was written or why it was refused."""
    status = result["status"]
    if status == "REJECTED":
        return f"REJECTED {result['code']}: {result['message']}"
    if status == "APPLIED":
        entity = result.get("entity") or {}
        ident = next((f"{k}={v}" for k, v in entity.items() if k.endswith("Id")), "")
        name = entity.get("code") or entity.get("name") or ""
        return f"APPLIED {name} {ident}".rstrip()
    transaction = result.get("transaction") or {}
    tx = transaction.get("transaction", {})
    lines = [f"POSTED {tx.get('transactionId')} ({tx.get('tranCode')}, "
             f"effective {tx.get('effective')})"]
    for entry in transaction.get("entries", []):
        lines.append(f"  {entry['sequence']:>2} {entry['direction']:<6} {entry['units']:>14} "
                     f"{entry['currency']} {entry['layer']:<11} {entry['entryType']:<16} "
                     f"{entry['accountId']}")
    lines += [f"  warning {w['code']}: {w['message']}" for w in result.get("warnings", [])]
    return "\n".join(lines)


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A fixed-width text table."""
    columns = zip(headers, *rows, strict=False)
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))) for row in rows]
    return "\n".join(lines)
