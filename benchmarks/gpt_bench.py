"""Speed of training microgpt's GPT on names: zdravkograd's modes against the reference.

Each measurement is a fresh Python process that loads the shipped names, builds the model
(same seed, same weights), trains a few steps untimed (warm-up), then times ``--steps``
training steps. The figure is the time **per name trained**: a scalar step trains one name,
a batched step ``--batch`` names. Rounds alternate between the variants; the table gives
the median over rounds and the spread (min-max), and the speed-up of each median over the
reference's (benchmarks/microgpt_ref.py, a microgpt-style engine and model).

    python benchmarks/gpt_bench.py [--rounds 5] [--markdown docs/gpt-benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

# variant -> (timed steps, names per step, warm-up steps). The compiled variants warm up by
# tracing, before the clock starts, every program the timed steps will use.
VARIANTS = {
    "reference": (4, 1, 1),
    "scalar": (20, 1, 2),
    "compiled": (40, 1, 0),
    "batched": (3, 512, 1),
    "batched, compiled": (4, 256, 0),
}


def _docs():
    import random

    from zdravkograd.data import CharTokenizer, load_names

    names = load_names()
    random.Random(42).shuffle(names)
    tok = CharTokenizer.from_documents(names)
    return tok, [tok.encode_document(n) for n in names]


def worker(variant: str, steps: int, batch: int, warmup: int) -> dict:
    """Time ``steps`` training steps of ``variant`` after ``warmup`` untimed ones."""
    import random

    from zdravkograd.gpt_train import Programs, pad_batch, train_gpt
    from zdravkograd.transformer import GPT

    tok, docs = _docs()
    model = GPT(tok.vocab_size, rng=random.Random(42))
    if variant == "reference":
        import microgpt_ref

        weights = microgpt_ref.weights_of(model)
        run = microgpt_ref.train(weights, docs, warmup + steps)
        for _ in range(warmup):
            next(run)
        start = time.perf_counter()
        for _ in range(steps):
            next(run)
        seconds = time.perf_counter() - start
    else:
        mode = "batched" if variant.startswith("batched") else "scalar"
        compiled = variant.endswith("compiled")
        programs = Programs(model) if compiled else None
        train_gpt(model, docs, warmup, mode=mode, batch_size=batch)
        timed = docs[warmup * batch : (warmup + steps) * batch]
        if programs is not None:  # trace each program the timed steps need, untimed
            groups = [timed[i : i + batch] for i in range(0, len(timed), batch)]
            lengths = {}
            for group in groups:
                n = pad_batch(group, tok.bos)[0].shape[1] - 1
                key = n if batch > 1 else min(-(-n // 4) * 4, model.block_size)
                lengths.setdefault(key, group)
            for group in lengths.values():
                programs.step(group, batched=batch > 1)
        start = time.perf_counter()
        train_gpt(
            model, timed, steps, mode=mode, batch_size=batch, compiled=compiled, programs=programs
        )
        seconds = time.perf_counter() - start
    return {"variant": variant, "seconds": seconds, "names": steps * batch}


def measure(variant: str) -> float:
    """Seconds per name trained, from one fresh process."""
    steps, batch, warmup = VARIANTS[variant]
    out = subprocess.run(
        [sys.executable, __file__, "--worker", variant, str(steps), str(batch), str(warmup)],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"] / result["names"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per variant (5)")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table here")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        variant, steps, batch, warmup = args.worker
        print(json.dumps(worker(variant, int(steps), int(batch), int(warmup))))
        return
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(args.rounds):
        for variant in VARIANTS:
            times[variant].append(measure(variant))
            print(f"round {r + 1}: {variant} {times[variant][-1] * 1000:.2f} ms/name", flush=True)
    ref = statistics.median(times["reference"])
    lines = [
        "| variant | names per step | ms per name (median) | spread (min-max) | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant, (_, batch, _) in VARIANTS.items():
        ts = times[variant]
        med = statistics.median(ts)
        lines.append(
            f"| {variant} | {batch} | {med * 1000:.2f} | {min(ts) * 1000:.2f}-"
            f"{max(ts) * 1000:.2f} | {ref / med:.1f}x |"
        )
    table = "\n".join(lines)
    note = (
        f"\n\n{args.rounds} fresh processes per variant, Python {platform.python_version()}, "
        f"{platform.machine()}; microgpt's model (4,192 parameters) on the shipped names.\n"
    )
    print(table + note)
    if args.markdown is not None:
        head = (
            "# GPT benchmarks\n\n"
            "Training microgpt's GPT on the shipped names (see [A GPT from Values](gpt.md)), "
            "measured by `benchmarks/gpt_bench.py` (part of `make bench`): each figure is the "
            "wall time per name trained, from fresh processes, after a warm-up (the compiled "
            "variants trace their programs first). The speed-up is over the reference, "
            "`benchmarks/microgpt_ref.py`, a microgpt-style scalar engine and model.\n\n"
        )
        args.markdown.write_text(head + table + note, encoding="utf-8")
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
