"""In-memory stock keeping for a small shop."""


class Inventory:
    def __init__(self):
        self._stock = {}

    def add(self, sku, qty):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self._stock[sku] = self._stock.get(sku, 0) + qty

    def remove(self, sku, qty):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self._stock[sku] = self._stock.get(sku, 0) - qty

    def quantity(self, sku):
        return self._stock.get(sku, 0)

    def fulfil(self, order):
        """Remove every ``{sku: qty}`` line of ``order`` from stock."""
        for sku, qty in order.items():
            self.remove(sku, qty)

    def low_stock(self, threshold=5):
        """Return SKUs with fewer than ``threshold`` items, sorted."""
        return sorted(s for s, q in self._stock.items() if q < threshold)
