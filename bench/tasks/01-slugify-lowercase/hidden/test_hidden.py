import unittest

from slug import slugify, unique_slug


class HiddenSlugTests(unittest.TestCase):
    def test_lowercase(self):
        self.assertEqual(slugify("Hello World"), "hello-world")

    def test_mixed_case_and_punctuation(self):
        self.assertEqual(slugify("  Rust & Python: A Tale!  "), "rust-python-a-tale")

    def test_unique_slug_case_insensitive_base(self):
        self.assertEqual(unique_slug("My Post", {"my-post"}), "my-post-2")

    def test_still_lowercase_input(self):
        self.assertEqual(slugify("already-fine"), "already-fine")


if __name__ == "__main__":
    unittest.main()
