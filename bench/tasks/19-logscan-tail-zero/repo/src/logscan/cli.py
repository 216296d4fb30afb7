"""Command line interface."""

import argparse
import sys

from logscan.filters.level import at_least
from logscan.filters.pattern import matching
from logscan.filters.time_window import within
from logscan.output.json_out import write_json
from logscan.output.plain import write_plain
from logscan.parsing.line import parse_lines
from logscan.parsing.timestamps import parse_bound
from logscan.reader import read_lines
from logscan.select import first_records, last_records
from logscan.stats import count_levels, format_stats


def build_parser():
    parser = argparse.ArgumentParser(prog="logscan", description="Scan structured application logs.")
    parser.add_argument("files", nargs="*", default=["-"])
    parser.add_argument("--level", help="minimum level (trace, debug, info, warn, error, fatal)")
    parser.add_argument("--grep", help="regular expression matched against the message")
    parser.add_argument("-i", "--ignore-case", action="store_true")
    parser.add_argument("-v", "--invert", action="store_true")
    parser.add_argument("--since", type=parse_bound)
    parser.add_argument("--until", type=parse_bound)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--head", type=int, metavar="N")
    group.add_argument("--tail", type=int, metavar="N")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stats", action="store_true")
    parser.add_argument("--color", action="store_true")
    return parser


def scan(args):
    records = parse_lines(read_lines(args.files))
    if args.level:
        records = at_least(records, args.level)
    if args.grep:
        records = matching(records, args.grep, args.ignore_case, args.invert)
    if args.since or args.until:
        records = within(records, args.since, args.until)
    if args.head is not None:
        records = first_records(records, args.head)
    elif args.tail is not None:
        records = last_records(records, args.tail)
    return records


def main(argv=None, out=None):
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    records = scan(args)
    if args.stats:
        out.write(format_stats(count_levels(records)) + "\n")
    elif args.json:
        write_json(records, out)
    else:
        write_plain(records, out, color=args.color)
    return 0
