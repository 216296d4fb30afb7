"""Command line: invoicing show|export-text|export-csv FILE.json"""

import argparse
import json
import sys

from invoicing.display.table import render_table
from invoicing.export.csv_export import render_csv
from invoicing.export.text_export import render_text
from invoicing.models.credit_note import CreditNote
from invoicing.models.invoice import Invoice

COMMANDS = {"show": render_table, "export-text": render_text, "export-csv": render_csv}


def load(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    cls = CreditNote if data.get("kind") == "credit_note" else Invoice
    doc = cls.from_dict(data)
    if isinstance(doc, CreditNote):
        doc.refers_to = data.get("refers_to", "")
    return doc


def main(argv=None):
    parser = argparse.ArgumentParser(prog="invoicing")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("file")
    args = parser.parse_args(argv)
    doc = load(args.file)
    out = COMMANDS[args.command](doc)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
