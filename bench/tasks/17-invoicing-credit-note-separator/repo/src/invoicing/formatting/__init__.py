"""Formatting of amounts and dates for documents (text export, e-mails)."""
