# A CPython workload for the `real programs` check (wasi/real/README.md): integer and
# float arithmetic, strings, dicts, classes, generators, sorting, json, hashlib and
# the file system (a preopened directory as argv[1]); prints a checksum of each part.
import hashlib
import json
import os
import sys


def primes(limit):
    sieve = bytearray([1]) * (limit + 1)
    sieve[0:2] = b"\0\0"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(sieve[i * i :: i]))
    return [i for i, p in enumerate(sieve) if p]


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


def fib_gen():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def main():
    out = {}
    ps = primes(200_000)
    out["primes"] = (len(ps), sum(ps) % 1_000_003)
    words = {}
    for i in range(20_000):
        w = format(i * 2654435761 % 4096, "x")
        words[w] = words.get(w, 0) + 1
    out["words"] = (len(words), max(words.values()), sorted(words)[:3])
    v = Vector(0.0, 0.0)
    for i in range(20_000):
        v = v + Vector(i * 0.5, -i / 3.0)
    out["vector"] = round(v.norm2(), 3)
    g = fib_gen()
    out["fib"] = [next(g) for _ in range(300)][-1] % 10**12
    data = [{"id": i, "tags": [str(i % 7), str(i % 11)], "value": i * 1.25} for i in range(3_000)]
    text = json.dumps(data, sort_keys=True)
    out["json"] = (len(text), sum(d["value"] for d in json.loads(text)))
    out["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    out["sorted"] = sorted((i * 7919) % 10007 for i in range(30_000))[::5000]
    if len(sys.argv) > 1:
        path = os.path.join(sys.argv[1], "bench-output.json")
        with open(path, "w") as f:
            json.dump(out, f, sort_keys=True)
        with open(path) as f:
            out["file"] = len(f.read())
        os.remove(path)
    for key in sorted(out):
        print(key, out[key])


main()
