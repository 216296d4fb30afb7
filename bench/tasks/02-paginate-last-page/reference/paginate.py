"""Simple list pagination."""


class Paginator:
    def __init__(self, items, per_page=20):
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self.items = list(items)
        self.per_page = per_page

    @property
    def page_count(self):
        return (len(self.items) + self.per_page - 1) // self.per_page

    def page(self, number):
        """Return the items on page ``number`` (1-based)."""
        if number < 1 or number > self.page_count:
            raise IndexError(f"page {number} out of range (1-{self.page_count})")
        start = (number - 1) * self.per_page
        return self.items[start:start + self.per_page]

    def has_next(self, number):
        return number < self.page_count

    def pages(self):
        """Yield every page in order."""
        for number in range(1, self.page_count + 1):
            yield self.page(number)
