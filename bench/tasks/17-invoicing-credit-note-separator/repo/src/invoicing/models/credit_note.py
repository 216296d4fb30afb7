"""Credit notes: invoices that give money back, so their amounts are negative."""

from dataclasses import dataclass

from invoicing.models.invoice import Invoice


@dataclass
class CreditNote(Invoice):
    refers_to: str = ""

    kind = "Credit note"
    sign = -1

    @property
    def due(self):
        # Refunds are paid out immediately.
        return self.issued
