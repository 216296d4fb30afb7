"""Split arithmetic expressions into tokens."""

OPERATORS = "+-*/()"


def tokenize(text):
    """Return a list of tokens: ints, floats and operator characters."""
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in OPERATORS:
            tokens.append(ch)
            i += 1
        elif ch.isdigit() or ch == ".":
            start = i
            while i < len(text) and (text[i].isdigit() or text[i] == "."):
                i += 1
            number = text[start:i]
            tokens.append(float(number) if "." in number else int(number))
        else:
            raise SyntaxError(f"unexpected character {ch!r} at {i}")
    return tokens
