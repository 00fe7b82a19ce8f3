import json, random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
random.seed(seed)
convs = "aAbBcCdDeFgGhHIjklLmMnNpPrRsStTuUvVwWxXyYzZ%+QqEOfJKiou:1 "
def piece():
    r = random.random()
    if r < 0.15: return random.choice(["x", " ", "-", "/", ":", "T", "é", "%%"])
    s = "%"
    for _ in range(random.choice([0, 0, 0, 1, 1, 2])):
        s += random.choice("-_0^#")
    if random.random() < 0.25: s += str(random.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 20]))
    if random.random() < 0.1: s += ":" * random.randint(1, 4)
    if random.random() < 0.05: s += random.choice("EO")
    s += random.choice(convs)
    return s
inputs = ["now", 1700000000, -1, 0, "2024-02-29T13:05:09.123456789Z", "1969-07-20 20:17:40 -05:00", "0001-01-01 00:00:00 +05:30", "2021-01-03 00:00:00", "2020-12-31 23:59:59 +14:00", "2024-06-30 12:00:00 -09:30", {"$utc": 1704449096}, {"$time": [1704449096, "+05:30"]}, {"$time": [-86400 * 400, "-08:00"]}, "99999-12-31"]
for _ in range(n):
    f = "".join(piece() for _ in range(random.randint(1, 5)))
    if random.random() < 0.03: f += random.choice(["%", "%-", "%5", "%:"])
    print(json.dumps({"in": random.choice(inputs), "f": "date", "args": [f]}, ensure_ascii=False))
