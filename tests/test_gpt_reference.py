"""The GPT trained by zdravkograd equals an independent microgpt-style reference
(benchmarks/microgpt_ref.py: its own Value class, recursive topological sort, Adam written
out) at every step, from the same initial weights on the same names in the same order."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from zdravkograd.data import CharTokenizer, load_names
from zdravkograd.gpt_train import train_gpt
from zdravkograd.transformer import GPT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import microgpt_ref  # noqa: E402

reference_weights = microgpt_ref.weights_of


def test_scalar_training_equals_the_reference_at_each_of_20_steps():
    names = load_names()
    random.Random(42).shuffle(names)
    tok = CharTokenizer.from_documents(names)
    docs = [tok.encode_document(n) for n in names[:20]]
    model = GPT(tok.vocab_size, rng=random.Random(42))
    weights = reference_weights(model)
    steps = 20
    reference = microgpt_ref.train(weights, docs, steps)
    worst_loss = worst_weight = 0.0

    def compare(step: int, loss: float) -> None:
        nonlocal worst_loss, worst_weight
        ref_loss = next(reference)  # the reference's step `step`, weights updated
        ours = reference_weights(model)
        worst_loss = max(worst_loss, abs(loss - ref_loss))
        worst_weight = max(
            worst_weight,
            max(
                abs(a - b)
                for k in ours
                for ra, rb in zip(ours[k], weights[k])
                for a, b in zip(ra, rb)
            ),
        )
        assert abs(loss - ref_loss) < 1e-9, f"step {step}: {loss} vs {ref_loss}"
        assert worst_weight < 1e-9, f"step {step}: weights differ by {worst_weight}"

    losses = train_gpt(model, docs, steps, callback=compare)
    assert len(losses) == steps and losses[-1] < losses[0]  # it learns
    assert worst_loss < 1e-9 and worst_weight < 1e-9
    # the weights moved: the comparison is not between two untouched copies
    untouched = GPT(27, rng=random.Random(42))
    assert reference_weights(model)["wte"] != reference_weights(untouched)["wte"]
