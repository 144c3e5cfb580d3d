"""Draw docs/img/gpt_position.svg: one position's loss of microgpt's GPT, folded by module.

python scripts/make_gpt_images.py [OUT_DIR]     (default docs/img)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zdravkograd.data import CharTokenizer, load_names  # noqa: E402
from zdravkograd.losses import logsumexp  # noqa: E402
from zdravkograd.transformer import GPT  # noqa: E402
from zdravkograd.viz import draw_dot, module_groups  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs/img"
    tok = CharTokenizer.from_documents(load_names())
    model = GPT(tok.vocab_size, rng=random.Random(42))
    tokens = tok.encode_document("emma")
    with module_groups(model) as groups:
        logits = model(tokens[:2])
        with groups.scope("loss"):
            loss = logsumexp(logits[1]) - logits[1][tokens[2]]
    loss.label = "loss"
    loss.backward()
    svg = draw_dot(loss, collapse=groups, rankdir="TB").pipe(format="svg", encoding="utf-8")
    (out / "gpt_position.svg").write_text(svg, encoding="utf-8")
    print(f"wrote {out / 'gpt_position.svg'}")


if __name__ == "__main__":
    main()
