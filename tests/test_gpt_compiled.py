"""Compiled GPT training (zdravkograd.compile_step programs with one-hot token ids)
against the scalar path: the same losses and weights to 1e-12, step by step."""

from __future__ import annotations

import random

import numpy as np

from zdravkograd.data import CharTokenizer
from zdravkograd.gpt_train import Programs, pad_batch, train_gpt
from zdravkograd.transformer import GPT

WORDS = ["anna", "bob", "clara", "dora", "emil", "frida", "gustav", "ida", "jo", "karl"]
TOK = CharTokenizer.from_documents(WORDS)
DOCS = [TOK.encode_document(w) for w in WORDS]


def small(seed=0):
    return GPT(TOK.vocab_size, n_embd=8, n_head=2, block_size=8, rng=random.Random(seed))


def test_compiled_training_equals_scalar_at_each_step():
    scalar, compiled = small(), small()
    seen = []
    losses = train_gpt(scalar, DOCS, 20, callback=lambda s, loss: seen.append(scalar.state_dict()))
    i = iter(seen)

    def check(step, loss):
        want = next(i)
        got = compiled.state_dict()
        assert max(abs(got[k] - want[k]) for k in got) < 1e-12, step
        assert abs(loss - losses[step]) < 1e-12, step

    train_gpt(compiled, DOCS, 20, mode="compiled", callback=check)
    assert losses[-1] < losses[0]


def test_programs_are_traced_once_per_padded_length():
    model = small(1)
    programs = Programs(model)
    for doc in DOCS + DOCS:
        programs.step([doc], batched=False)
    lengths = {min(-(-(len(d) - 1) // 4) * 4, 8) for d in DOCS}
    assert len(programs._steps) == len(lengths) == 2  # 4 and 8 positions


def test_a_compiled_batch_gives_the_mean_of_the_per_name_losses_and_gradients():
    model = small(2)
    per_name = []
    for doc in DOCS[:4]:
        model.zero_grad()
        loss = model.loss(doc)
        loss.backward()
        per_name.append((loss.data, [p.grad for p in model.parameters()]))
    batch_loss = Programs(model).step(DOCS[:4], batched=True)
    grads = [p.grad for p in model.parameters()]
    assert abs(batch_loss - np.mean([loss for loss, _ in per_name])) < 1e-12
    mean = np.mean([g for _, g in per_name], axis=0)
    assert np.max(np.abs(np.array(grads) - mean)) < 1e-12
    eager = small(2)
    value = eager.loss(*pad_batch(DOCS[:4], TOK.bos))
    assert abs(value.data - batch_loss) < 1e-12


def test_the_array_adam_updates_the_weights_bit_for_bit_as_optim_adam():
    from zdravkograd.gpt_train import _ArrayAdam
    from zdravkograd.optim import Adam

    a, b = small(5), small(5)
    opt_a = Adam(a.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    opt_b = _ArrayAdam(b.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    for step, doc in enumerate(DOCS * 2):
        for model, opt in ((a, opt_a), (b, opt_b)):
            model.zero_grad()
            model.loss(doc).backward()
            opt.lr = 0.01 * (1 - step / 20)
            opt.step()
        assert a.state_dict() == b.state_dict(), step
