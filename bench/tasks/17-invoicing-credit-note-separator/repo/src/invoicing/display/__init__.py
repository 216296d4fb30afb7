"""Terminal output for `invoicing show`."""
