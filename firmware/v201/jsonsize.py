# How many bytes ocppj.encoder writes for a value, counted without writing it.
"""The length of a value's compact JSON as lib/ocppj/encoder.py writes it (no spaces, UTF-8,
a None in a dict left out), so a caller can see whether a message fits a frame before it
builds the frame, and how long a received payload was.

    size({"a": [1, "b"]})      # 13: {"a":[1,"b"]}

Exact for ASCII text (escapes included); a character outside ASCII counts 4 bytes (its UTF-8
takes 2 to 4), so the figure is never below what the encoder writes. Nothing is allocated but the iteration.
"""


def size(v):
    if isinstance(v, str):
        return text_size(v)
    if v is True:
        return 4
    if v is False:
        return 5
    if isinstance(v, int):
        return int_size(v)
    if isinstance(v, dict):
        n = 1
        for k in v:
            item = v[k]
            if item is not None:
                n += text_size(k) + 2 + size(item)  # "k":item and a comma or the brace
        return n if n > 1 else 2
    if isinstance(v, (list, tuple)):
        n = 1
        for item in v:
            n += size(item) + 1
        return n if n > 1 else 2
    if v is None:
        return 4
    return len(repr(v))  # a float: rare, allocates


def text_size(s):
    """The bytes of string `s` as a JSON string, quotes included."""
    n = len(s) + 2
    for c in s:
        if c == '"' or c == "\\" or c == "\t" or c == "\n" or c == "\r":
            n += 1  # \" \\ \t \n \r
        elif c < " ":
            n += 5  # \u00XX
        elif c > "\x7f":
            n += 3  # 2 to 4 bytes of UTF-8
    return n


def int_size(n):
    digits = 1 if n >= 0 else 2
    n = -n if n < 0 else n
    while n >= 10:
        n //= 10
        digits += 1
    return digits
