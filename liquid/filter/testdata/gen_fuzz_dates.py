import json, random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
random.seed(seed)
months = ["January","February","March","April","May","June","July","August","September","October","November","December"]
days = ["Sunday","Monday","Tuesday","Wednesday","Thursday","Friday","Saturday"]
def case(s):
    r = random.random()
    return s.upper() if r < 0.1 else s.lower() if r < 0.3 else s
def year():
    return random.choice([str(random.randint(1900, 2100)), "%02d" % random.randint(0, 99), str(random.randint(1, 9)), "'%02d" % random.randint(0, 99), str(random.randint(10000, 99999)), "-%04d" % random.randint(1, 2000)])
def num(lo, hi, pad=0.5):
    v = random.randint(lo, hi)
    return ("%02d" % v) if random.random() < pad else str(v)
def mon():
    r = random.random()
    if r < 0.5: return num(1, 12)
    if r < 0.75: return case(random.choice(months))
    if r < 0.95: return case(random.choice(months)[:3]) + random.choice(["", "", "."])
    return str(random.randint(13, 20))
def day():
    r = random.random()
    d = num(1, 31)
    if r < 0.1: return d + random.choice(["st", "nd", "rd", "th"])
    if r < 0.15: return str(random.randint(32, 40))
    return d
def tm():
    h = num(0, 23)
    parts = [h, num(0, 59, 0.9)]
    if random.random() < 0.6: parts.append(num(0, 60, 0.9))
    s = ":".join(parts)
    if random.random() < 0.2: s += random.choice([".", ","]) + str(random.randint(0, 999999999))[:random.randint(1, 9)]
    if random.random() < 0.2: s = num(1, 12) + random.choice([":%02d" % random.randint(0, 59), ""]) + random.choice([" ", ""]) + random.choice(["am", "pm", "AM", "PM", "a.m.", "p.m."])
    if random.random() < 0.05: s = num(0, 23) + "h" + num(0, 59) + random.choice(["m", ""])
    return s
def zone():
    return random.choice(["Z", "z", "UTC", "GMT", "UT", "EST", "EDT", "PST", "PDT", "CET", "JST", "+0000", "-0000", "+05:30", "-08:00", "+0530", "-0800", "+05", "-3", "+1:00", "GMT+1", "UTC-05:00", "+09:00:00", "-00:00", "A", "M", "Y", "foo", "Eastern Standard Time", "mst dst"])
def dt():
    y, m, d = year(), mon(), day()
    r = random.random()
    if r < 0.25: date = "%s-%s-%s" % (y, m, d)
    elif r < 0.35: date = "%s/%s/%s" % (m, d, y)
    elif r < 0.42: date = "%s/%s/%s" % (y, m, d)
    elif r < 0.5: date = "%s.%s.%s" % (d, m, y)
    elif r < 0.62: date = "%s %s%s %s" % (case(random.choice(months)), d, random.choice([",", ""]), y)
    elif r < 0.72: date = "%s %s %s" % (d, case(random.choice(months)[:3]), y)
    elif r < 0.76: date = "%s-%s-%s" % (d, case(random.choice(months)[:3]), y)
    elif r < 0.8: date = "%04d%02d%02d" % (random.randint(1900, 2100), random.randint(1, 12), random.randint(1, 28))
    elif r < 0.84: date = "%s %s" % (case(random.choice(months)), y)
    elif r < 0.88: date = "%s %s" % (case(random.choice(months)[:3]), d)
    elif r < 0.9: date = "%s-%s" % (y, m)
    elif r < 0.92: date = "%s/%s" % (m, d)
    else: date = ""
    out = date
    if random.random() < 0.15: out = case(random.choice(days))[:random.choice([3, 10])] + random.choice([", ", " "]) + out
    if random.random() < 0.55: out += random.choice(["T", " ", "t", " at ", ", "]) + tm()
    if random.random() < 0.35: out += random.choice([" ", "", " "]) + zone()
    if random.random() < 0.05: out = random.choice(["noon", "yesterday", "now ", " today", "abc", "3 days ago", "12", "7", "31", "99", "0", "2024", "12 10:00", "10:00 12"]) + random.choice(["", " " + tm()])
    return out.strip() if random.random() < 0.9 else " " + out + " "
fmt = "%Y-%m-%d %H:%M:%S.%N %z|%Z|%j"
for _ in range(n):
    print(json.dumps({"in": dt(), "f": "date", "args": [fmt]}))
