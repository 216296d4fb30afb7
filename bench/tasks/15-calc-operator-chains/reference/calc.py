"""A small recursive-descent calculator."""

from tokenizer import tokenize


class Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expr(self):
        """expr := term (('+' | '-') term)*"""
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            left = left + right if op == "+" else left - right
        return left

    def term(self):
        """term := factor (('*' | '/') factor)*"""
        left = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            right = self.factor()
            left = left * right if op == "*" else left / right
        return left

    def factor(self):
        """factor := number | '-' factor | '(' expr ')'"""
        token = self.take()
        if token == "-":
            return -self.factor()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise SyntaxError("expected ')'")
            return value
        if isinstance(token, (int, float)):
            return token
        raise SyntaxError(f"unexpected token {token!r}")


def evaluate(text):
    """Evaluate an arithmetic expression such as ``"2 * (3 + 4)"``."""
    parser = Parser(tokenize(text))
    value = parser.expr()
    if parser.peek() is not None:
        raise SyntaxError(f"unexpected token {parser.peek()!r}")
    return value
