import json, random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
random.seed(seed)
def dec():
    r = random.random()
    if r < 0.3:
        return "%s%d.%s" % (random.choice(["", "-"]), random.randint(0, 10**random.randint(0, 20)), "".join(random.choice("0123456789") for _ in range(random.randint(1, 25))))
    if r < 0.6:
        return {"$f": repr(random.uniform(-1e6, 1e6) * 10 ** random.randint(-20, 20))}
    if r < 0.8:
        return random.randint(-10**random.randint(0, 25), 10**random.randint(0, 25)) if random.random() < 0.3 else random.randint(-1000, 1000)
    return random.choice([0.1, 0.2, 0.3, 1/3, 2/3, 0.7, 1.1, 2.675, 1.005, 0.5, 1e-7, 123.456, 99.99, 19.99, 0.01, 3.0])
ops = ["plus", "minus", "times", "divided_by", "modulo", "at_least", "at_most"]
for _ in range(n):
    r = random.random()
    if r < 0.8:
        c = {"in": dec(), "f": random.choice(ops), "args": [dec()]}
    elif r < 0.95:
        c = {"in": dec(), "f": "round", "args": [random.randint(-5, 12)] if random.random() < 0.8 else []}
    else:
        c = {"in": dec(), "f": random.choice(["ceil", "floor", "abs"]), "args": []}
    print(json.dumps(c))
