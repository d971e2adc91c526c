"""Data sets for the EGRU examples: nothing is downloaded.

The char-LM corpus is the licence texts Debian's base-files package ships in
/usr/share/common-licenses (they permit verbatim copying and distribution; s2 does not ship
them, they are read at run time). Digits are sklearn's bundled 8x8 digits.
"""
import os

import numpy as np

LICENSE_DIR = "/usr/share/common-licenses"
CORPUS_FILES = ("GPL-3", "GPL-2", "LGPL-2.1", "GFDL-1.3", "MPL-2.0", "Apache-2.0", "Artistic")
HELD_OUT_FRACTION = 0.10


class DataError(RuntimeError):
    pass


def corpus_text(directory=LICENSE_DIR):
    """The concatenated licence texts, in the fixed order of CORPUS_FILES."""
    missing = [f for f in CORPUS_FILES if not os.path.isfile(os.path.join(directory, f))]
    if missing:
        raise DataError("char-LM corpus: %s missing in %s (Debian's base-files package ships "
                        "them; install base-files or pass another directory)"
                        % (", ".join(missing), directory))
    parts = []
    for f in CORPUS_FILES:
        with open(os.path.join(directory, f), "r", encoding="utf-8") as fh:
            parts.append(fh.read())
    return "".join(parts)


class Corpus:
    """Text, vocabulary (sorted set of characters) and the train / held-out split (last 10 %)."""

    def __init__(self, text=None, vocab=None):
        self.text = corpus_text() if text is None else text
        self.vocab = sorted(set(self.text)) if vocab is None else list(vocab)
        self.index = {ch: i for i, ch in enumerate(self.vocab)}
        bad = sorted(set(self.text) - set(self.index))
        if bad:
            raise DataError("corpus: characters %r are not in the vocabulary" % "".join(bad))
        ids = np.array([self.index[ch] for ch in self.text], dtype=np.int64)
        split = len(ids) - int(round(len(ids) * HELD_OUT_FRACTION))
        self.ids = ids
        self.train = ids[:split]
        self.held_out = ids[split:]
        self.held_out_text = self.text[split:]

    def encode(self, s):
        out = []
        for k, ch in enumerate(s):
            if ch not in self.index:
                raise DataError("text position %d: character %r is not in the vocabulary"
                                % (k, ch))
            out.append(self.index[ch])
        return np.array(out, dtype=np.int64)

    def decode(self, ids):
        return "".join(self.vocab[int(i)] for i in ids)


DIGITS_TEST_FRACTION = 0.25
DIGITS_SPLIT_SEED = 0
DIGITS_PIXEL_THRESHOLD = 8  # pixel >= 8 (of 0..16) is an input event of value 1.0


def digits():
    """sklearn's bundled digits, binarised, as (N, 8 rows, 8 pixels) float32 events, and labels.

    Fixed split: a permutation with seed DIGITS_SPLIT_SEED, the last 25 % for testing.
    Returns (x_train, y_train, x_test, y_test)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images >= DIGITS_PIXEL_THRESHOLD).astype(np.float32)  # (N, 8, 8): row, column
    y = d.target.astype(np.int64)
    perm = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(y))
    n_test = int(round(len(y) * DIGITS_TEST_FRACTION))
    tr, te = perm[:-n_test], perm[-n_test:]
    return x[tr], y[tr], x[te], y[te]


def bits_per_char(logits, targets):
    """Mean -log2 p(target) under softmax(logits), in float64: logits (T, V), targets (T,)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(1, keepdims=True))
    t = np.asarray(targets, dtype=np.int64)
    return float(-lp[np.arange(len(t)), t].mean() / np.log(2))
