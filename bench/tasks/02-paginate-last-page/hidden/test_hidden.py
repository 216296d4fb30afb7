import unittest

from paginate import Paginator


class HiddenPaginatorTests(unittest.TestCase):
    def test_partial_last_page_counted(self):
        self.assertEqual(Paginator(list(range(25)), per_page=10).page_count, 3)

    def test_partial_last_page_contents(self):
        p = Paginator(list(range(25)), per_page=10)
        self.assertEqual(p.page(3), [20, 21, 22, 23, 24])
        self.assertFalse(p.has_next(3))
        self.assertTrue(p.has_next(2))

    def test_exact_multiple(self):
        self.assertEqual(Paginator(list(range(20)), per_page=10).page_count, 2)

    def test_empty(self):
        self.assertEqual(Paginator([], per_page=10).page_count, 0)

    def test_pages_cover_everything(self):
        p = Paginator(list(range(7)), per_page=3)
        self.assertEqual(list(p.pages()), [[0, 1, 2], [3, 4, 5], [6]])

    def test_out_of_range(self):
        with self.assertRaises(IndexError):
            Paginator(list(range(25)), per_page=10).page(4)


if __name__ == "__main__":
    unittest.main()
