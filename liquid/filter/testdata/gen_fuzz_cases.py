import json, random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
random.seed(seed)
I = lambda s: {"$i": s}
F = lambda s: {"$f": s}
FS = lambda s: {"$fs": s}
strs = ["", " ", "hello", "Hello World", "a,b,c", "  padded  ", "foo bar baz qux quux", "x<b>y</b>z", "&amp; &lt;p&gt;", "héllo wörld",
 "日本語のテキスト", "emoji 🎉 ok", "line1\nline2\r\nline3", "10", "3.5", "-7", "true", "nil", "a-b_c", "%41%20b+c", "UPPER lower MiXeD",
 "tab\there", "1,2,3", "apple", "Banana", "cherry", "z", "ÄÖÜ äöü", "it's \"quoted\"", "  ", "\n", "0", "1e3", "a.b.c", "<script>alert(1)</script>",
 "ß", "ﬃ", "İ", "ǅ", "ΣΑΣ", "\u0000", "a\u0000b", "%", "%%", "%zz", "+", "==", "YQ==", "YWJj", "Zm9v\n", "_-", "\\", "\\0", "\\&", "$1", "é", "e\u0301",
 " 0x10 ", "1_0", "-0", "-0.0", "00012", "1.", ".5", "9" * 25, "-9" * 3, "1.5e3", "\t\n\v\f\r x", "x \t\n\v\f\r", "<!-- x -->y", "<style>a</style>b<p>",
 "2024-01-15", "March 14, 2016", "title", "price", "a b c d e f g h i j k l m n o p q", "word " * 20]
ints = [0, 1, -1, 2, 3, 5, 7, 10, -5, 42, 100, 1000, -1000, 255, 99999, 9223372036854775807, -9223372036854775808, 9223372036854775806, 4611686018427387904,
 I("9223372036854775808"), I("18446744073709551616"), I("-9223372036854775809"), I("123456789012345678901234567890")]
floats = [0.1, 0.5, -0.5, 1.5, 2.0, F("1e20"), F("1e-05"), 3.14159, -2.75, 0.0, 100.0, F("1e16"), 123456789.125, 2.5, -0.1, 0.3, F("1e15"), 9.99, 1.0/3.0,
 F("-0.0"), FS("nan"), FS("inf"), FS("-inf"), 1e300, 5e-324, 0.125, 1.005, 4.35, 8.345, 1.15]
props = ["title", "price", "available", "vendor", "tags", "missing", "id", "a", 0, 1, -1, None, 1.5, "", "size", "first"]
def scalar():
    r = random.random()
    if r < 0.4: return random.choice(strs)
    if r < 0.65: return random.choice(ints)
    if r < 0.85: return random.choice(floats)
    return random.choice([None, True, False])
def product(depth=1):
    d = {}
    for k in ["title", "price", "available", "vendor", "tags", "id", "a"]:
        if random.random() < 0.6:
            d[k] = value(depth + 1)
    return d
def value(depth=0):
    r = random.random()
    if depth > 2 or r < 0.55: return scalar()
    if r < 0.75: return [value(depth + 1) for _ in range(random.randint(0, 5))]
    if r < 0.85: return [product(depth + 1) for _ in range(random.randint(0, 4))]
    if r < 0.95: return product(depth + 1)
    return {"$range": [random.randint(-3, 3), random.randint(-3, 6)]}
filters = {
 "plus": 1, "minus": 1, "times": 1, "divided_by": 1, "modulo": 1, "at_least": 1, "at_most": 1, "abs": 0, "ceil": 0, "floor": 0, "round": (0, 1),
 "append": 1, "prepend": 1, "upcase": 0, "downcase": 0, "capitalize": 0, "strip": 0, "lstrip": 0, "rstrip": 0, "strip_newlines": 0, "newline_to_br": 0,
 "escape": 0, "h": 0, "escape_once": 0, "url_encode": 0, "url_decode": 0, "strip_html": 0, "base64_encode": 0, "base64_decode": 0,
 "base64_url_safe_encode": 0, "base64_url_safe_decode": 0, "truncate": (0, 2), "truncatewords": (0, 2), "replace": (1, 2), "replace_first": (1, 2),
 "replace_last": 2, "remove": 1, "remove_first": 1, "remove_last": 1, "split": 1, "join": (0, 1), "first": 0, "last": 0, "size": 0, "reverse": 0,
 "sort": (0, 1), "sort_natural": (0, 1), "uniq": (0, 1), "compact": (0, 1), "map": 1, "where": (1, 2), "concat": 1, "slice": (1, 2), "default": (0, 2),
}
def argval(f, i):
    if f in ("map", "where", "sort", "sort_natural", "uniq", "compact") and i == 0 and random.random() < 0.8:
        return random.choice(props)
    if f in ("slice", "truncate", "truncatewords", "round") and random.random() < 0.6:
        return random.choice([0, 1, 2, 3, -1, -2, 5, 10, 50, "2", "x", None, 1.5, -3])
    if f == "concat" and random.random() < 0.8:
        return value(1) if random.random() < 0.3 else [scalar() for _ in range(random.randint(0, 3))]
    return value(1)
cases = []
names = list(filters)
for _ in range(n):
    f = random.choice(names)
    ar = filters[f]
    lo, hi = (ar, ar) if isinstance(ar, int) else ar
    k = random.randint(lo, hi)
    if random.random() < 0.02: k += random.choice([-1, 1])
    k = max(k, 0)
    c = {"in": value(), "f": f, "args": [argval(f, i) for i in range(k)]}
    if f == "default" and random.random() < 0.3:
        c["kw"] = {"allow_false": random.choice([True, False, None, 1])}
    elif random.random() < 0.01:
        c["kw"] = {"x": scalar()}
    cases.append(c)
for c in cases:
    print(json.dumps(c, ensure_ascii=False))
