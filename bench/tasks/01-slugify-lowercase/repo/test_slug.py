import unittest

from slug import slugify, unique_slug


class SlugTests(unittest.TestCase):
    def test_punctuation_collapsed(self):
        self.assertEqual(slugify("what's new -- 2024?"), "what-s-new-2024")

    def test_max_length(self):
        self.assertEqual(slugify("a" * 100, max_length=10), "a" * 10)

    def test_unique(self):
        self.assertEqual(unique_slug("post", {"post", "post-2"}), "post-3")


if __name__ == "__main__":
    unittest.main()
