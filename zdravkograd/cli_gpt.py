"""The GPT commands of the command line: ``zdravkograd names`` and ``zdravkograd sample``.

``zdravkograd names`` trains microgpt's model (``zdravkograd.nn.GPT``) on the shipped US baby
names, or on any text file with one document per line (``--text``), shows a progress bar,
prints samples, and writes into ``--out`` (default ``./zdravkograd-out/names/``):

* ``loss.png``: the training loss of every step, and its running mean;
* ``model.json``: the model (``zdravkograd.nn.load`` reads it) and its vocabulary;
* ``samples.txt``: one sampled document per line;
* ``attention.png``: each head's attention weights while reading one sampled name;
* ``metrics.json``: the per-step losses, the training time in seconds, the mode, the samples
  and the fraction of samples that are not in the training data.

The five files are written into a temporary folder first and moved into ``--out`` together
(``cli._Outputs``, as ``moons`` does): a failed run replaces no earlier output.

``zdravkograd sample --model DIR/model.json`` samples from a saved model.

``cli.py`` registers these commands (``add_commands``); errors follow its rules (exit 2 for
a usage error, 1 for a file that cannot be read or written, one line, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from pathlib import Path
from typing import Any

from zdravkograd._optional import require_extra
from zdravkograd.cli import (
    DEFAULT_OUT,
    CLIError,
    _Outputs,
    _positive,
    _positive_int,
    _seed,
    _usage_error,
)

NAMES_OUT = Path(DEFAULT_OUT) / "names"
MODES = ("scalar", "compiled", "batched")  # zdravkograd.gpt_train.MODES (imported lazily)
OUTPUTS = ("loss.png", "model.json", "samples.txt", "attention.png", "metrics.json")
MAX_BLOCK_SIZE = 1024  # each position is n_embd more weights and a graph that grows with it


def add_commands(sub: Any) -> None:
    """Add ``names`` and ``sample`` to the ``zdravkograd`` command's sub-parsers."""
    names = sub.add_parser(
        "names",
        help="train a character-level GPT on names (microgpt's workload) and sample from it",
        description="Train zdravkograd.nn.GPT (n_embd 16, 4 heads, 1 layer, 4,192 parameters "
        "for 27 tokens) on the US baby names shipped with zdravkograd, or on --text FILE (one "
        "document per line), with microgpt's recipe: Adam (0.85, 0.99), lr 0.01 falling "
        "linearly to 0. Then print samples and write loss.png, model.json, samples.txt, "
        "attention.png and metrics.json into --out.",
    )
    names.add_argument("--steps", type=_positive_int, default=1000, help="training steps (1000)")
    names.add_argument(
        "--mode",
        choices=MODES,
        default="scalar",
        help="'scalar': one name per step, a graph of float Values (microgpt's way); "
        "'compiled': the same steps replayed by compiled programs (a few seconds to trace "
        "each of up to 4 padded lengths, then much faster; the same numbers to 1e-12); "
        "'batched': --batch names per step, padded and masked, every Value a column of "
        "numbers (default: scalar)",
    )
    names.add_argument(
        "--batch", type=_positive_int, default=16, help="names per step in batched mode (16)"
    )
    names.add_argument("--seed", type=_seed, default=42, help="seed for order, weights, samples")
    names.add_argument(
        "--out", type=Path, default=NAMES_OUT, help=f"output folder (./{NAMES_OUT}/)"
    )
    names.add_argument("--samples", type=_positive_int, default=20, help="names to sample (20)")
    names.add_argument(
        "--temperature", type=_positive, default=0.5, help="sampling temperature > 0 (0.5)"
    )
    names.add_argument(
        "--block-size",
        type=_block_size,
        default=16,
        help=f"the longest context, in tokens, 2 to {MAX_BLOCK_SIZE} (16)",
    )
    names.add_argument(
        "--text", type=Path, default=None, help="a UTF-8 text file, one document per line"
    )
    names.add_argument("--quiet", action="store_true", help="no progress bar")
    names.set_defaults(func=cmd_names)

    sample = sub.add_parser(
        "sample",
        help="sample names from a model saved by 'zdravkograd names'",
        description="Load a model.json written by 'zdravkograd names' and print samples.",
    )
    sample.add_argument("--model", type=Path, required=True, help="a model.json from names")
    sample.add_argument("--samples", type=_positive_int, default=20, help="how many (20)")
    sample.add_argument("--temperature", type=_positive, default=0.5, help="> 0 (0.5)")
    sample.add_argument("--prefix", default="", help="the start every sample continues")
    sample.add_argument("--seed", type=_seed, default=42, help="seed for sampling (42)")
    sample.set_defaults(func=cmd_sample)


def _block_size(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(
            f"must be at least 2 (a BOS token and one letter), got {text!r}"
        )
    if n > MAX_BLOCK_SIZE:  # a far larger one would fill the memory before training starts
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BLOCK_SIZE}, got {text!r}")
    return n


# ---------------------------------------------------------------------- names


def cmd_names(args: argparse.Namespace) -> int:
    """``zdravkograd names``: train, sample, write the five files."""
    from zdravkograd import data
    from zdravkograd.gpt_train import train_gpt
    from zdravkograd.transformer import GPT

    tqdm = require_extra("tqdm", "cli", "The progress bar of 'zdravkograd names'").tqdm
    require_extra("matplotlib", "viz", "The pictures of 'zdravkograd names'")
    if args.text is None:
        docs = data.load_names()
        source = "the US baby names shipped with zdravkograd"
    else:
        docs = _read_documents(args.text)
        source = str(args.text)
    outputs = _Outputs(args.out, OUTPUTS)  # checks the folder now, writes nothing yet
    tokenizer = data.CharTokenizer.from_documents(docs)
    rng = random.Random(args.seed)
    order = list(docs)
    rng.shuffle(order)
    model = GPT(tokenizer.vocab_size, block_size=args.block_size, rng=rng)
    encoded = [tokenizer.encode_document(d) for d in order]
    per_step = f"{args.batch} documents" if args.mode == "batched" else "1 document"
    print(
        f"training GPT ({len(model.parameters()):,} parameters, {tokenizer.vocab_size} tokens) "
        f"on {len(docs):,} documents from {source}: {args.steps} steps of {per_step} "
        f"(mode {args.mode})",
        flush=True,
    )
    with tqdm(total=args.steps, desc="training", unit="step", disable=args.quiet) as bar:

        def progress(step: int, loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update()

        start = time.perf_counter()
        losses = train_gpt(
            model, encoded, args.steps, mode=args.mode, batch_size=args.batch, callback=progress
        )
        seconds = time.perf_counter() - start
    samples = _sample(model, tokenizer, args.samples, args.temperature, "", rng)
    known = set(docs)
    novel = sum(s not in known for s in samples) / len(samples)
    print(f"trained in {seconds:.1f} s; final loss {losses[-1]:.4f}")
    print(f"samples at temperature {args.temperature} ({novel:.0%} not in the training data):")
    for s in samples:
        print(f"  {s}")
    metrics = {
        "mode": args.mode,
        "steps": args.steps,
        "batch": args.batch if args.mode == "batched" else 1,
        "seed": args.seed,
        "train_seconds": seconds,
        "losses": losses,
        "samples": samples,
        "novel_fraction": novel,
        "temperature": args.temperature,
        "data": source,
    }
    with outputs:  # written into a temporary folder, then moved into --out together
        outputs.staged("model.json").write_text(_model_json(model, tokenizer), "utf-8")
        outputs.staged("samples.txt").write_text("".join(s + "\n" for s in samples), "utf-8")
        outputs.staged("metrics.json").write_text(json.dumps(metrics, indent=1), "utf-8")
        _loss_png(outputs.staged("loss.png"), losses)
        _attention_png(outputs.staged("attention.png"), model, tokenizer, samples[0])
        outputs.commit()
    return 0


def _read_documents(path: Path) -> list[str]:
    from zdravkograd.data import load_documents

    try:
        return load_documents(path)
    except FileNotFoundError:
        raise CLIError(f"cannot read --text '{path}': no such file") from None
    except OSError as exc:
        raise CLIError(f"cannot read --text '{path}': {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CLIError(f"cannot use --text: {exc}") from None


def _sample(model: Any, tokenizer: Any, n: int, temperature: float, prefix: str, rng: Any) -> list:
    start = [tokenizer.bos, *tokenizer.encode(prefix)]
    out = []
    for _ in range(n):
        ids = model.generate(start, model.block_size, temperature, rng=rng, stop=tokenizer.bos)
        out.append(prefix + tokenizer.decode(ids))
    return out


def _model_json(model: Any, tokenizer: Any) -> str:
    """The model file of ``zdravkograd.serialization`` plus the vocabulary the model reads."""
    from zdravkograd.serialization import dumps

    doc = json.loads(dumps(model))
    doc["tokenizer"] = {"chars": "".join(tokenizer.chars), "bos": tokenizer.bos}
    return json.dumps(doc, indent=1)


def _loss_png(path: Path, losses: list[float]) -> None:
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    ax.plot(losses, color="#bbbbbb", linewidth=0.6, label="loss of each step")
    window = max(1, min(50, len(losses) // 10))
    mean = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(np.arange(window - 1, len(losses)), mean, color="#d9480f", label=f"mean of {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats)")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _attention_png(path: Path, model: Any, tokenizer: Any, name: str) -> None:
    from matplotlib.figure import Figure

    from zdravkograd.engine import no_grad
    from zdravkograd.transformer import KVCache

    tokens = [tokenizer.bos, *tokenizer.encode(name)][: model.block_size]
    attn = model.blocks[0].attn
    rows: list[list[list[float]]] = [[] for _ in range(attn.n_head)]  # head -> query -> key
    cache = KVCache(len(model.blocks))
    attn.keep_attention = True
    with no_grad():
        for pos, token in enumerate(tokens):
            model.step(token, pos, cache)
            for head, weights in enumerate(attn.last_attention):
                rows[head].append(weights + [float("nan")] * (len(tokens) - len(weights)))
    attn.keep_attention = False
    labels = ["BOS", *tokenizer.decode(tokens)]
    fig = Figure(figsize=(3.2 * attn.n_head, 3.6))
    for head, matrix in enumerate(rows):
        ax = fig.add_subplot(1, attn.n_head, head + 1)
        ax.imshow(matrix, cmap="Oranges", vmin=0.0, vmax=1.0)
        ax.set_title(f"head {head}")
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("attends to (key)")
        if head == 0:
            ax.set_ylabel("reading (query)")
    fig.suptitle(f"Attention of layer 0 while reading the sample '{name}'")
    fig.savefig(path, dpi=100, bbox_inches="tight")


# --------------------------------------------------------------------- sample


def cmd_sample(args: argparse.Namespace) -> int:
    """``zdravkograd sample``: print samples from a saved names model."""
    from zdravkograd.data import CharTokenizer

    model, chars = _load_gpt(args.model)
    tokenizer = CharTokenizer(chars)
    bad = [c for c in args.prefix if c not in tokenizer.chars]
    if bad:
        _usage_error(
            "sample",
            f"argument --prefix: the character {bad[0]!r} is not in the model's vocabulary "
            f"({''.join(tokenizer.chars)!r})",
        )
    if len(args.prefix) + 1 >= model.block_size:
        _usage_error(
            "sample",
            f"argument --prefix: {len(args.prefix)} characters leave no room in the model's "
            f"block size of {model.block_size} tokens",
        )
    rng = random.Random(args.seed)
    for s in _sample(model, tokenizer, args.samples, args.temperature, args.prefix, rng):
        print(s)
    return 0


def _load_gpt(path: Path) -> tuple[Any, str]:
    """The GPT and the vocabulary of a model.json written by ``zdravkograd names``."""
    from zdravkograd.serialization import loads
    from zdravkograd.transformer import GPT

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CLIError(f"cannot load the model '{path}': no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CLIError(f"cannot load the model '{path}': {reason}") from None
    try:
        model = loads(text, source=str(path))
    except ValueError as exc:
        raise CLIError(f"cannot load the model: {exc}") from None
    if not isinstance(model, GPT):
        raise CLIError(
            f"'{path}' holds a {type(model).__name__}, not a GPT: sample needs a model.json "
            "written by 'zdravkograd names'"
        )
    with contextlib.suppress(ValueError):
        tok = json.loads(text).get("tokenizer")
        if isinstance(tok, dict) and isinstance(tok.get("chars"), str):
            chars = tok["chars"]
            ok = "".join(sorted(set(chars))) == chars and len(chars) == model.vocab_size - 1
            if ok and tok.get("bos") == len(chars):
                return model, chars
    raise CLIError(
        f"'{path}' has no vocabulary for its {model.vocab_size} tokens (a 'tokenizer' entry): "
        "sample needs a model.json written by 'zdravkograd names'"
    )


__all__ = ["add_commands", "cmd_names", "cmd_sample"]
