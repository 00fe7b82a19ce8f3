import json, itertools, random
random.seed(7)
I = lambda s: {"$i": s}
F = lambda s: {"$f": s}
FS = lambda s: {"$fs": s}
ints = [0, 1, -1, 7, -7, 10, 3, 2, 9223372036854775807, -9223372036854775808, I("99999999999999999999"), I("-99999999999999999999")]
floats = [0.0, F("-0.0"), 1.5, -1.5, 2.5, -2.5, 0.1, 0.2, 3.14159, F("1e20"), F("1e-05"), 123456.789, 1.005, 2.675, 0.3, 1234.5678, FS("nan"), FS("inf"), FS("-inf")]
strs = ["", " ", "abc", "Hello World", "  padded \t\n", "1", "-3", "1.5", " 2.5 ", "-0.0", "1e3", "0x1A", "0b11", "010", "08", "1_000", "12abc", "+5", "ÉCOLE été", "straße", "ǆemal", "İstanbul", "<p>Hi & 'bye' \"q\"</p>", "&amp; &foo; &#39; &#x27; &", "a,b,,c,,", ",a,b", "line1\nline2\r\nline3\r", "%E9%20x+y", "%C3%A9%zz%", "aGVsbG8=", "aGVsbG8", "aGVs\nbG8=", "-_-_", "hello world foo bar baz", "one  two\tthree\nfour ", "a b c d e f g h i j k l m n o p q r", "x<script>alert(1)</script>y<!-- c -->z<style>s</style><b>bold</b><br/>", "abcabc", "\u0000 x \u0000", "日本語テキスト"]
misc = [None, True, False]
arrs = [[], [1, 2, 3], [3, 1, 2], [3, 1.5, -2, 10], ["b", "A", "c", "a", "B"], [1, [2, [3, "x"]]], [None, 1, None, 2], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": None, "b": "z"}, {"b": "w"}], ["a", "a", "b", "A"], [1, 1.0, "1", 1], [1, "a"], [None, "b", None, "a"], [True, False, True], [[1, 2], [1, 2], [3]], [{"a": 1}, {"a": 1}, {"a": 2}], ["abc", "xbz", "q"], [5, 3, 6], [1, "a", None], [{"x": "B"}, {"x": "a"}, {"x": None}, {"x": "c"}], ["10", "9", "1.5", "abc"], [0.1, 0.2, 0.3]]
hashes = [{}, {"a": 1, "b": 2}, {"title": "X", "a": None}]
ranges = [{"$range": [1, 5]}, {"$range": [3, 1]}]
times = [{"$utc": 1704449096}, {"$time": [1704449096, "+05:30"]}, {"$time": [-86400 * 400, "-08:00"]}]
allv = ints + floats + strs + misc + arrs + hashes + ranges
cases = []
def add(inp, f, args=(), kw=None):
    c = {"in": inp, "f": f, "args": list(args)}
    if kw is not None: c["kw"] = kw
    cases.append(c)

unary = "abs ceil floor downcase upcase capitalize escape h escape_once url_encode url_decode base64_encode base64_decode base64_url_safe_encode base64_url_safe_decode strip lstrip rstrip strip_html strip_newlines newline_to_br size first last reverse compact uniq sort sort_natural join round".split()
for f in unary:
    for v in allv:
        add(v, f)
nums = ints + floats + ["1", "-3", "1.5", " 2.5 ", "abc", "1_000", "-0.0", None, True, [1], {"a": 1}]
for f in "plus minus times divided_by modulo at_least at_most".split():
    for a in nums:
        for b in nums:
            if random.random() < 0.45 or f in ("divided_by", "modulo"):
                add(a, f, [b])
for v in ints + floats + ["1.2345", "12.5", "abc", None]:
    for n in [0, 1, 2, 3, -1, -2, 1.5, "1", "0", -0.5, None, 10, 400, 10000000000]:
        add(v, "round", [n])
for v in strs + misc + ints[:4] + floats[:4] + arrs[:3] + hashes[:2]:
    for a in ["", "x", " ", "abc", "b", 1, None, 1.5, [1, 2], {"k": 1}]:
        add(v, random.choice(["append", "prepend"]), [a])
for v in strs + [None, 123, 1.5, [1, 2], {"a": 1}]:
    for sep in ["", " ", ",", "a", "b", "\n", "  ", None, 1, "ab"]:
        add(v, "split", [sep])
repls = ["", "x", "[\\0]", "\\&\\&", "\\`", "\\'", "\\\\", "\\1", "\\q", "a\\", "\\k<x>", "\\k", None, 1]
for v in ["abcabc", "aaa", "", "a.b.c", "hello world", "日本語", None, 12321, [1, 2]]:
    for pat in ["", "a", "b", "abc", ".", "l", "x", None, 1, "日"]:
        for f in ["replace", "replace_first", "replace_last"]:
            add(v, f, [pat, random.choice(repls)])
        add(v, "replace", [pat])
        for f in ["remove", "remove_first", "remove_last"]:
            add(v, f, [pat])
for v in ["hello", "日本語テキスト", "", None, 12345, [1, 2, 3, 4, 5], [[1, 2], 3], {"a": 1}, 1.5, {"$range": [1, 5]}]:
    for o in [0, 1, -1, -3, 2, 5, 6, -6, "1", " 2 ", "0x1", "010", "08", "a", None, 1.5, I("99999999999999999999"), 9223372036854775807]:
        add(v, "slice", [o])
        for l in [0, 1, 2, 10, -1, "2", None, False, 9223372036854775807]:
            if random.random() < 0.3:
                add(v, "slice", [o, l])
for v in strs + [None, 12345, [1, 2], {"a": 1}]:
    for l in [None, 0, 1, 3, 5, 10, 50, -1, "5", "x", 1.5, I("99999999999999999999"), I("-99999999999999999999")]:
        args = [] if l is None else [l]
        add(v, "truncate", args)
        add(v, "truncatewords", args)
        for e in ["", "…", "--", None, 5]:
            if random.random() < 0.15 and args:
                add(v, "truncate", args + [e])
                add(v, "truncatewords", args + [e])
for v in arrs + hashes + ranges + strs[:8] + misc + ints[:3]:
    for g in ["", ", ", "-", None, 1, [1]]:
        add(v, "join", [g])
for v in arrs + hashes + ranges + [None, "abc", 5]:
    for p in ["a", "b", "x", 0, 1, "to_liquid", None, 1.5, "size"]:
        add(v, "map", [p])
        add(v, "sort", [p])
        add(v, "sort_natural", [p])
        add(v, "uniq", [p])
        add(v, "compact", [p])
        add(v, "where", [p])
        for t in [1, "x", "y", None, True, 2.0, "1"]:
            if random.random() < 0.3:
                add(v, "where", [p, t])
for v in arrs + hashes + ranges + [None, "abc", 5]:
    for a in [[], [1, [2]], ["x"], None, "abc", {"a": 1}, 5]:
        add(v, "concat", [a])
for v in [None, False, True, "", " ", "x", [], [None], {}, {"a": 1}, 0, 0.0, {"$range": [1, 0]}]:
    for d in [[], ["d"], ["d", {"allow_false": True}], [1, 2]]:
        add(v, "default", d)
    add(v, "default", ["d"], {"allow_false": True})
    add(v, "default", [], {"allow_false": False})
    add(v, "default", ["d"], {"allow_false": False, "x": 1})
dates = ["now", "today", "NOW", "Today", "", "1700000000", "0", "-5", " 1700000000", 1700000000, -1, 0, 1.5, None, True, [1], {"a": 1},
    "2024-01-05", "2024-01-05T10:20:30Z", "2024-01-05T10:20:30.123456+05:30", "2024-01-05 10:20:30 -0500", "2024-01-05T10:20:30-04:00",
    "2024-01-05 10:20:30", "2024-01-05T10:20", "20240105", "20240105T102030", "20240105102030", "Jan 5, 2024", "January 5 2024 10:00 PM",
    "5 Jan 2024", "Fri, 05 Jan 2024 10:20:30 +0000", "Fri, 05 Jan 2024 10:20:30 GMT", "Friday, January 5, 2024", "01/05/2024", "2024/01/05", "05/01/24", "1/2", "5.1.2024",
    "10:00", "10pm", "10:30 am", "12:00 am", "12:00 pm", "abc", "12", "Jan", "5th", "Dec 25", "2024-01-05 10:00:00 EST", "2024-01-05 10:00:00 PDT", "2024-01-05 10:00:00 UTC",
    "2024-13-45", "2024-02-30", "99-01-05", "2024-01-05 25:00", "tomorrow", "3 days ago", "2024-W01-1", "2024-005", "Monday", "noon", "2024", "1.5", "2024-01-05T10:20:30.5Z",
    "Sat Jan 06 2024 10:20:30 GMT+0000", "2024-01-05 10:20:30 +0530", "2024-01-05 10:20:30 +05", "2024-01-05 10:20:30 +5", "2023-12-31T23:59:59.999999999-12:00",
    "June 2024", "2024-06", "t10:00", "H31.4.30", "5-jan-2024", "jan-5-2024", "'24", "10h30", "2024-01-05 10:20:30.123 z", "1999-12-31 23:59:60", "2024-01-05 24:00:00",
    {"$utc": 1704449096}, {"$time": [1704449096, "+05:30"]}, {"$time": [-86400 * 400, "-08:00"]}]
fmts = ["%Y-%m-%d %H:%M:%S", "%a %A %b %B %h %c", "%d %-d %e %-e %j %k %l %I %p %P", "%y %C %m %-m %_m %0e %^a %^B %#b %#p %#Z", "%z %:z %::z %Z %s", "%N %L %3N %6N %12N %10L",
    "%u %w %U %W %G %g %V", "%D %F %T %R %r %x %X %v %+", "%% %n %t %Q %q %", "%10A|%-10A|%_5d|%05e|%^10b|%010Y|%-y|%3S", "%-H:%-M %-I%P", "", "plain", "%E", "%Ey %Od %OH", "%8z %-z %_z %-:z"]
for d in dates:
    for f in fmts:
        add(d, "date", [f])
add("now", "date", [])
add("now", "date", [None])
# arity
for f, n in [("upcase", 1), ("plus", 0), ("plus", 2), ("slice", 0), ("slice", 3), ("truncate", 3), ("replace", 0), ("replace_last", 1), ("default", 3), ("date", 0), ("date", 2), ("map", 0), ("where", 0), ("where", 3), ("join", 2), ("round", 2), ("concat", 0)]:
    add("x", f, [1] * n)
add("x", "append", [], {"x": 1})
add("x", "truncate", [5], {"a": "b"})
add(1, "plus", [1], {"a": "b"})
for t in times:
    for f in ["size", "first", "join", "escape", "upcase", "plus", "default"]:
        add(t, f, [1] if f == "plus" else [])
with open("cases.jsonl", "w") as fh:
    for c in cases:
        fh.write(json.dumps(c, ensure_ascii=False) + "\n")
print(len(cases))
