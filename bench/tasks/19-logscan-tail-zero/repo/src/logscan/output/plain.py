def write_plain(records, out, color=False):
    colors = {"WARN": "\033[33m", "ERROR": "\033[31m", "FATAL": "\033[1;31m"}
    for record in records:
        if color and record.level in colors:
            out.write(f"{colors[record.level]}{record.raw}\033[0m\n")
        else:
            out.write(record.raw + "\n")
