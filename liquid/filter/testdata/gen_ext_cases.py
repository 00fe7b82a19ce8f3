import json, random
random.seed(11)
I = lambda s: {"$i": s}
F = lambda s: {"$f": s}
FS = lambda s: {"$fs": s}
arrs = [[], [1, 2, 3], [3, 1.5, -2, 10], ["b", "A", "c"], [1, [2, [3, "x"]]], [None, 1, None, 2],
    [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": None, "b": "z"}, {"b": "w"}], [1, 1.0, "1"], [1, "a"],
    [True, False], [[1, 2], [3]], [{"a": 1}, {"a": 1.0}, {"a": "1"}], ["abc", "xbz", "q"], [5, 3, 6], [1, "a", None],
    ["10", "9", "1.5", "abc", " 2.5 "], [0.1, 0.2, 0.3], [I("99999999999999999999"), 1], [FS("nan"), 1], [F("-0.0")],
    [{"price": "1.5"}, {"price": 2}, {"price": None}, {"price": [1, 2]}], [{"a": True}, {"a": False}, {"a": None}]]
others = [None, "abc", "", 5, 1.5, True, {"a": 1}, {"a": "2.5"}, {"$range": [1, 4]}, {"$range": [3, 1]}]
cases = []
def add(inp, f, args=(), kw=None):
    c = {"in": inp, "f": f, "args": list(args)}
    if kw is not None: c["kw"] = kw
    cases.append(c)
props = ["a", "b", "x", "price", 0, 1, None, 1.5, "to_liquid"]
targets = [1, "x", "y", None, True, False, 2.0, "1", 1.0, [1, 2]]
for v in arrs + others:
    add(v, "sum")
    for p in props:
        add(v, "sum", [p])
        for f in ["find", "find_index", "has", "reject"]:
            add(v, f, [p])
            for t in targets:
                if random.random() < 0.35:
                    add(v, f, [p, t])
for f, n in [("sum", 2), ("find", 0), ("find", 3), ("has", 0), ("reject", 3), ("squish", 1), ("find_index", 0)]:
    add([1], f, [1] * n)
for s in ["", " ", "  a  b \n\t c  ", "abc", "a\u00a0b  c", "\u0000 x \u0000", "x\vy\fz", None, 5, 1.5, [1, 2], {"a": 1}, "日本  語"]:
    add(s, "squish")
with open("cases_ext.jsonl", "w") as fh:
    for c in cases:
        fh.write(json.dumps(c, ensure_ascii=False) + "\n")
print(len(cases))
