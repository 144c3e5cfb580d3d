"""Training-loss curves of 1,000 steps: zdravkograd's GPT against the reference.

Both start from the same weights (GPT(27, rng=random.Random(42))) and see the same names in
the same order (the shipped names, shuffled with random.Random(42)), one name per step,
with microgpt's Adam and linear decay. Writes docs/img/gpt_loss.png (both curves, as
running means of 50 steps), benchmarks/gpt_quality.json (every loss, the times, the
samples) and prints the fraction of zdravkograd's samples that are not training names.

    python benchmarks/gpt_quality.py [--steps 1000]   (about 15 minutes: the reference is slow)
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import microgpt_ref  # noqa: E402

from zdravkograd.data import CharTokenizer, load_names  # noqa: E402
from zdravkograd.gpt_train import train_gpt  # noqa: E402
from zdravkograd.transformer import GPT  # noqa: E402


def run(part: str, steps: int, samples: int) -> dict:
    """Train one side (``zdravkograd`` or ``reference``) for ``steps`` steps."""
    names = load_names()
    random.Random(42).shuffle(names)
    tok = CharTokenizer.from_documents(names)
    docs = [tok.encode_document(n) for n in names]
    model = GPT(tok.vocab_size, rng=random.Random(42))
    start = time.perf_counter()
    if part == "reference":
        losses = list(microgpt_ref.train(microgpt_ref.weights_of(model), docs, steps))
        return {"losses": losses, "seconds": time.perf_counter() - start}
    losses = train_gpt(model, docs, steps)
    seconds = time.perf_counter() - start
    rng = random.Random(7)
    sampled = [
        tok.decode(model.generate([tok.bos], model.block_size, 0.5, rng=rng, stop=tok.bos))
        for _ in range(samples)
    ]
    return {"losses": losses, "seconds": seconds, "samples": sampled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--part", choices=("zdravkograd", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:  # one side, in its own process; the result goes to stdout as JSON
        print(json.dumps(run(args.part, args.steps, args.samples)))
        return
    cmd = [sys.executable, __file__, "--steps", str(args.steps), "--samples", str(args.samples)]
    procs = {
        part: subprocess.Popen([*cmd, "--part", part], stdout=subprocess.PIPE, text=True)
        for part in ("zdravkograd", "reference")
    }  # the two sides run side by side
    results = {part: json.loads(p.communicate()[0]) for part, p in procs.items()}
    ours, ref = results["zdravkograd"]["losses"], results["reference"]["losses"]
    ours_seconds, ref_seconds = results["zdravkograd"]["seconds"], results["reference"]["seconds"]
    samples = results["zdravkograd"]["samples"]
    names = load_names()
    known = set(names)
    novel = sum(s not in known for s in samples) / len(samples)
    diff = max(abs(a - b) for a, b in zip(ours, ref))
    result = {
        "steps": args.steps,
        "zdravkograd_losses": ours,
        "reference_losses": ref,
        "max_abs_difference": diff,
        "zdravkograd_seconds": ours_seconds,
        "reference_seconds": ref_seconds,
        "samples": samples,
        "novel_fraction": novel,
    }
    (HERE / "gpt_quality.json").write_text(json.dumps(result, indent=1))
    import numpy as np
    from matplotlib.figure import Figure

    w = max(1, min(50, len(ours) // 10))
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    for losses, label, style in (
        (ref, "reference (microgpt-style)", "-"),
        (ours, "zdravkograd", "--"),
    ):
        mean = np.convolve(losses, np.ones(w) / w, mode="valid")
        ax.plot(np.arange(w - 1, len(losses)), mean, style, label=label, linewidth=1.6)
    ax.set_xlabel("step (one name each)")
    ax.set_ylabel(f"training loss, mean of {w} steps")
    ax.set_title(f"Same weights, same names: the curves coincide (max |diff| {diff:.1e})")
    ax.legend()
    out = HERE.parent / "docs" / "img" / "gpt_loss.png"
    fig.savefig(out, dpi=100, bbox_inches="tight")
    print(f"max |loss difference| over {args.steps} steps: {diff:.2e}")
    last_ours, last_ref = np.mean(ours[-50:]), np.mean(ref[-50:])
    print(f"final mean loss (last 50): ours {last_ours:.4f}, reference {last_ref:.4f}")
    print(f"time: ours {ours_seconds:.0f} s, reference {ref_seconds:.0f} s")
    print(f"{novel:.0%} of {len(samples)} samples at temperature 0.5 are not training names")
    print("samples:", ", ".join(samples[:20]))
    print(f"wrote {out} and {HERE / 'gpt_quality.json'}")


if __name__ == "__main__":
    main()
