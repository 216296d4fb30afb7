import unittest

from paginate import Paginator


class PaginatorTests(unittest.TestCase):
    def test_full_pages(self):
        p = Paginator(list(range(6)), per_page=3)
        self.assertEqual(p.page_count, 2)
        self.assertEqual(p.page(2), [3, 4, 5])

    def test_partial_last_page(self):
        p = Paginator(list(range(25)), per_page=10)
        self.assertEqual(p.page(3), [20, 21, 22, 23, 24])

    def test_bad_per_page(self):
        with self.assertRaises(ValueError):
            Paginator([1], per_page=0)


if __name__ == "__main__":
    unittest.main()
