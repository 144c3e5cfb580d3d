"""The independent reference for the GPT benchmarks and equivalence tests: a microgpt-style
scalar engine and model written from the published algorithm, deliberately plain.

``weights`` maps ``wte``, ``wpe``, ``lm_head`` and ``l{i}.wq|wk|wv|wo|fc1|fc2`` to matrices
(lists of rows of floats); ``train`` yields each step's loss and leaves the new floats there.
"""

import math
import sys

sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # backward recurses ~1,000 deep


class Value:
    """A number, the Values it was computed from, and its local derivative by each of them.
    Only the operations with their own derivative: ``a - b`` is written ``a + -b``, ``a / b``
    is ``a * b**-1``."""

    __slots__ = ("data", "grad", "kids", "local")

    def __init__(self, data, kids=(), local=()):
        self.data, self.grad, self.kids, self.local = data, 0.0, kids, local

    def __add__(self, o):
        o = o if isinstance(o, Value) else Value(o)
        return Value(self.data + o.data, (self, o), (1.0, 1.0))

    def __mul__(self, o):
        o = o if isinstance(o, Value) else Value(o)
        return Value(self.data * o.data, (self, o), (o.data, self.data))

    __radd__, __rmul__ = __add__, __mul__

    def __pow__(self, k):
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def relu(self):
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def backward(self):
        order, seen = [], set()

        def visit(v):  # children before parents
            if v not in seen:
                seen.add(v)
                for kid in v.kids:
                    visit(kid)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):  # the chain rule, from the loss down
            for kid, d in zip(v.kids, v.local):
                kid.grad += d * v.grad


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(z):
    m = max(v.data for v in z)  # a constant shift, for stability
    e = [(v + -m).exp() for v in z]
    inv = sum(e) ** -1.0
    return [v * inv for v in e]


def rmsnorm(x):
    scale = (sum(v * v for v in x) * (1.0 / len(x)) + 1e-5) ** -0.5
    return [v * scale for v in x]


def gpt(p, token, pos, keys, vals, n_head):
    """One position's logits; appends its keys and values to each layer's cache."""
    x = rmsnorm([t + q for t, q in zip(p["wte"][token], p["wpe"][pos])])
    for i in range(len(keys)):
        res, x = x, rmsnorm(x)
        q, k, v = (linear(x, p[f"l{i}.{w}"]) for w in ("wq", "wk", "wv"))
        keys[i].append(k)
        vals[i].append(v)
        hd, out = len(x) // n_head, []
        for h in range(0, len(x), hd):  # each head attends over its slice of q, k and v
            qh = q[h : h + hd]
            att = softmax([sum(a * b for a, b in zip(qh, kt[h:])) * hd**-0.5 for kt in keys[i]])
            out += [sum(a * vt[j] for a, vt in zip(att, vals[i])) for j in range(h, h + hd)]
        x = [a + b for a, b in zip(linear(out, p[f"l{i}.wo"]), res)]
        mlp = linear([h.relu() for h in linear(rmsnorm(x), p[f"l{i}.fc1"])], p[f"l{i}.fc2"])
        x = [a + b for a, b in zip(mlp, x)]
    return linear(x, p["lm_head"])


def train(weights, docs, steps, n_head=4, block_size=16, lr=0.01, b1=0.85, b2=0.99, eps=1e-8):
    """Step i trains on ``docs[i % len(docs)]``, token ids starting and ending with BOS."""
    p = {k: [[Value(x) for x in row] for row in m] for k, m in weights.items()}
    params = [v for m in p.values() for row in m for v in row]
    mom, vel = [0.0] * len(params), [0.0] * len(params)
    n_layer = sum(k.endswith(".wq") for k in p)
    for step in range(steps):
        tokens = docs[step % len(docs)]
        n = min(block_size, len(tokens) - 1)
        keys, vals = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
        logits = [gpt(p, tokens[pos], pos, keys, vals, n_head) for pos in range(n)]
        loss = (-1.0 / n) * sum(softmax(z)[t].log() for z, t in zip(logits, tokens[1 : n + 1]))
        loss.backward()
        lr_t = lr * (1 - step / steps)  # Adam, its rate decaying linearly to 0
        for i, w in enumerate(params):
            mom[i] = b1 * mom[i] + (1 - b1) * w.grad
            vel[i] = b2 * vel[i] + (1 - b2) * w.grad**2
            m_hat, v_hat = mom[i] / (1 - b1 ** (step + 1)), vel[i] / (1 - b2 ** (step + 1))
            w.data, w.grad = w.data - lr_t * m_hat / (v_hat**0.5 + eps), 0.0
        weights.update({k: [[v.data for v in row] for row in m] for k, m in p.items()})
        yield loss.data


def weights_of(model):
    """A zdravkograd ``GPT``'s weights in this layout, read through its attributes."""
    mats = {"wte": model.wte.weight, "wpe": model.wpe.weight, "lm_head": model.lm_head}
    for i, block in enumerate(model.blocks):
        mats |= {f"l{i}.{n}": getattr(block.attn, n) for n in ("wq", "wk", "wv", "wo")}
        mats |= {f"l{i}.{n}": getattr(block.mlp, n) for n in ("fc1", "fc2")}
    return {k: [[v.data for v in row] for row in m] for k, m in mats.items()}
