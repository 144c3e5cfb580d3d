"""A reference for the GPT benchmarks and equivalence tests: a microgpt-style scalar engine
and model, written from the published algorithm (a Value with children and local
gradients, a recursive topological sort; RMSNorm, causal multi-head attention, a ReLU MLP,
Adam with linear decay, one name per step). Deliberately plain: this is the baseline.

``weights`` maps ``wte``, ``wpe``, ``lm_head``, ``l{i}.wq|wk|wv|wo|fc1|fc2`` to matrices
(lists of rows of floats). ``train`` yields each step's loss and leaves the trained floats
in ``weights``.
"""

import math
import sys


class V:
    __slots__ = ("data", "grad", "kids", "locs")

    def __init__(self, data, kids=(), locs=()):
        self.data, self.grad, self.kids, self.locs = data, 0.0, kids, locs

    def __add__(self, o):
        o = o if isinstance(o, V) else V(o)
        return V(self.data + o.data, (self, o), (1.0, 1.0))

    def __mul__(self, o):
        o = o if isinstance(o, V) else V(o)
        return V(self.data * o.data, (self, o), (o.data, self.data))

    __radd__, __rmul__ = __add__, __mul__

    def __pow__(self, k):
        return V(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return V(e, (self,), (e,))

    def log(self):
        return V(math.log(self.data), (self,), (1.0 / self.data,))

    def relu(self):
        return V(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, o):
        return self + (-o)

    def __truediv__(self, o):
        return self * o**-1.0

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for c in v.kids:
                    visit(c)
                order.append(v)

        limit = sys.getrecursionlimit()  # the graph is a few hundred nodes deep
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            visit(self)
        finally:
            sys.setrecursionlimit(limit)
        self.grad = 1.0
        for v in reversed(order):
            for c, local in zip(v.kids, v.locs):
                c.grad += local * v.grad


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(z):
    m = max(v.data for v in z)
    e = [(v - m).exp() for v in z]
    s = sum(e)
    return [v / s for v in e]


def rmsnorm(x):
    scale = (sum(v * v for v in x) / len(x) + 1e-5) ** -0.5
    return [v * scale for v in x]


def gpt(p, token, pos, keys, vals, n_head):
    x = rmsnorm([t + q for t, q in zip(p["wte"][token], p["wpe"][pos])])
    for i in range(len(keys)):
        res, x = x, rmsnorm(x)
        q, k, v = (linear(x, p[f"l{i}.{w}"]) for w in ("wq", "wk", "wv"))
        keys[i].append(k)
        vals[i].append(v)
        hd, out = len(x) // n_head, []
        for h in range(0, len(x), hd):
            qh = q[h : h + hd]
            att = softmax([sum(a * b for a, b in zip(qh, kt[h:])) / hd**0.5 for kt in keys[i]])
            out += [sum(a * vt[j] for a, vt in zip(att, vals[i])) for j in range(h, h + hd)]
        x = [a + b for a, b in zip(linear(out, p[f"l{i}.wo"]), res)]
        mlp = linear([h.relu() for h in linear(rmsnorm(x), p[f"l{i}.fc1"])], p[f"l{i}.fc2"])
        x = [a + b for a, b in zip(mlp, x)]
    return linear(x, p["lm_head"])


def train(weights, docs, steps, n_head=4, block_size=16, lr=0.01, b1=0.85, b2=0.99, eps=1e-8):
    """``docs``: lists of token ids, each starting and ending with BOS; step i trains on
    ``docs[i % len(docs)]``. Yields the loss of each step."""
    p = {k: [[V(x) for x in row] for row in m] for k, m in weights.items()}
    flat = [v for m in p.values() for row in m for v in row]
    n_layer = sum(k.endswith(".wq") for k in p)
    mom, vel = [0.0] * len(flat), [0.0] * len(flat)
    for step in range(steps):
        tokens = docs[step % len(docs)]
        n = min(block_size, len(tokens) - 1)
        keys, vals = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
        losses = []
        for pos in range(n):
            probs = softmax(gpt(p, tokens[pos], pos, keys, vals, n_head))
            losses.append(-probs[tokens[pos + 1]].log())
        loss = (1.0 / n) * sum(losses)
        loss.backward()
        lr_t = lr * (1 - step / steps)
        for i, w in enumerate(flat):
            mom[i] = b1 * mom[i] + (1 - b1) * w.grad
            vel[i] = b2 * vel[i] + (1 - b2) * w.grad**2
            m_hat, v_hat = mom[i] / (1 - b1 ** (step + 1)), vel[i] / (1 - b2 ** (step + 1))
            w.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            w.grad = 0.0
        for k, m in p.items():
            weights[k] = [[v.data for v in row] for row in m]
        yield loss.data


def weights_of(gpt):
    """A zdravkograd ``GPT``'s weights in this layout (read through its attributes)."""

    def floats(matrix):
        return [[v.data for v in row] for row in matrix]

    weights = {"wte": floats(gpt.wte.weight), "wpe": floats(gpt.wpe.weight)}
    weights["lm_head"] = floats(gpt.lm_head)
    for i, block in enumerate(gpt.blocks):
        for name in ("wq", "wk", "wv", "wo"):
            weights[f"l{i}.{name}"] = floats(getattr(block.attn, name))
        weights[f"l{i}.fc1"], weights[f"l{i}.fc2"] = floats(block.mlp.fc1), floats(block.mlp.fc2)
    return weights
