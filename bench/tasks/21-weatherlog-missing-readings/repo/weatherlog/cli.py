import argparse
import sys

from weatherlog.aggregate import by_station
from weatherlog.ingest import read_any
from weatherlog.report.markdown import render_markdown
from weatherlog.report.text import render_daily


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="weatherlog")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="daily summary per station")
    report.add_argument("files", nargs="+")
    report.add_argument("--markdown", action="store_true")
    report.add_argument("--fahrenheit", action="store_true")
    args = parser.parse_args(argv)
    readings = [reading for path in args.files for reading in read_any(path)]
    for station, station_readings in by_station(readings).items():
        out.write(f"## {station}\n" if args.markdown else f"Station {station}\n")
        if args.markdown:
            out.write(render_markdown(station_readings))
        else:
            out.write(render_daily(station_readings, args.fahrenheit))
    return 0
